# Serving operations: the reaper, adapter residency and admin credentials.
# Included from tests/CMakeLists.txt.
if(NOT TARGET vlsm_registry)
  return()
endif()
vlsm_test(reaper_test vlsm_registry)
vlsm_test(adapter_residency_test vlsm_registry vlsm_engine vlsm_format)
if(TARGET vlsm_service)
  vlsm_test(admin_auth_test vlsm_service)
endif()

# The server's operations on loopback (needs the grpc.health.v1 client).
if(TARGET vlsm_service)
  find_package(gRPC CONFIG REQUIRED)
  find_package(Protobuf REQUIRED)
  vlsm_test(server_ops_test vlsm_service vlsm_format gRPC::grpc++ protobuf::libprotobuf
    PROPERTIES TIMEOUT 300)
  set(VLSM_SERVER_OPS_HEALTH_OUT ${CMAKE_CURRENT_BINARY_DIR}/server_ops_health_proto)
  file(MAKE_DIRECTORY ${VLSM_SERVER_OPS_HEALTH_OUT})
  protobuf_generate(TARGET server_ops_test LANGUAGE cpp
    PROTOS health_check.proto PROTOC_OUT_DIR ${VLSM_SERVER_OPS_HEALTH_OUT})
  protobuf_generate(TARGET server_ops_test LANGUAGE grpc
    PROTOS health_check.proto PROTOC_OUT_DIR ${VLSM_SERVER_OPS_HEALTH_OUT}
    GENERATE_EXTENSIONS .grpc.pb.h .grpc.pb.cc
    PLUGIN "protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>")
  target_include_directories(server_ops_test PRIVATE ${VLSM_SERVER_OPS_HEALTH_OUT})
endif()
