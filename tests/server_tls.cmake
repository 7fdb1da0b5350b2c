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
vlsm_health_client(server_tls_test)
