# vlsm-server's services, in process on loopback. Included from
# tests/CMakeLists.txt.
if(NOT TARGET vlsm_service)
  return()
endif()

find_package(gRPC CONFIG REQUIRED)
find_package(Protobuf REQUIRED)
vlsm_test(server_test vlsm_service vlsm_format gRPC::grpc++ protobuf::libprotobuf
  PROPERTIES TIMEOUT 300)
vlsm_health_client(server_test)
vlsm_test(request_image_test vlsm_service vlsm_format protobuf::libprotobuf)
