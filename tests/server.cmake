# vlsm-server's services, in process on loopback. Included from
# tests/CMakeLists.txt.
if(NOT TARGET vlsm_service)
  return()
endif()

find_package(gRPC CONFIG REQUIRED)
find_package(Protobuf REQUIRED)
vlsm_test(server_test vlsm_service vlsm_format gRPC::grpc++ protobuf::libprotobuf
  PROPERTIES TIMEOUT 300)
# A client for grpc.health.v1.Health/Check (its own output folder: the
# sentencepiece coexistence test generates the same proto).
set(VLSM_SERVER_HEALTH_OUT ${CMAKE_CURRENT_BINARY_DIR}/server_health_proto)
file(MAKE_DIRECTORY ${VLSM_SERVER_HEALTH_OUT})
protobuf_generate(TARGET server_test LANGUAGE cpp
  PROTOS health_check.proto PROTOC_OUT_DIR ${VLSM_SERVER_HEALTH_OUT})
protobuf_generate(TARGET server_test LANGUAGE grpc
  PROTOS health_check.proto PROTOC_OUT_DIR ${VLSM_SERVER_HEALTH_OUT}
  GENERATE_EXTENSIONS .grpc.pb.h .grpc.pb.cc
  PLUGIN "protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>")
target_include_directories(server_test PRIVATE ${VLSM_SERVER_HEALTH_OUT})
