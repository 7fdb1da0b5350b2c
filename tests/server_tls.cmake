# vlsm-server over TLS and mutual TLS (certificates made at run time with the
# openssl CLI), and its metrics scraped through the real server. Included
# from tests/CMakeLists.txt.
if(NOT TARGET vlsm_service OR NOT TARGET vlsm_metrics)
  return()
endif()
find_program(VLSM_OPENSSL openssl)
if(NOT VLSM_OPENSSL)
  message(STATUS "openssl CLI not found: server_tls_test skipped")
  return()
endif()

find_package(gRPC CONFIG REQUIRED)
find_package(Protobuf REQUIRED)
vlsm_test(server_tls_test vlsm_service vlsm_format gRPC::grpc++ protobuf::libprotobuf
  PROPERTIES TIMEOUT 300)
target_compile_definitions(server_tls_test PRIVATE VLSM_OPENSSL="${VLSM_OPENSSL}")
# Its own copy of the grpc.health.v1 client (server_test generates another).
set(VLSM_SERVER_TLS_HEALTH_OUT ${CMAKE_CURRENT_BINARY_DIR}/server_tls_health_proto)
file(MAKE_DIRECTORY ${VLSM_SERVER_TLS_HEALTH_OUT})
protobuf_generate(TARGET server_tls_test LANGUAGE cpp
  PROTOS health_check.proto PROTOC_OUT_DIR ${VLSM_SERVER_TLS_HEALTH_OUT})
protobuf_generate(TARGET server_tls_test LANGUAGE grpc
  PROTOS health_check.proto PROTOC_OUT_DIR ${VLSM_SERVER_TLS_HEALTH_OUT}
  GENERATE_EXTENSIONS .grpc.pb.h .grpc.pb.cc
  PLUGIN "protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>")
target_include_directories(server_tls_test PRIVATE ${VLSM_SERVER_TLS_HEALTH_OUT})
