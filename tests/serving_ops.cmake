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
  vlsm_health_client(server_ops_test)
endif()
