# vlsm-client against an in-process vlsm-server. Included from
# tests/CMakeLists.txt.
if(TARGET vlsm_channel_credentials)
  vlsm_test(channel_credentials_test vlsm_channel_credentials)
endif()
if(NOT TARGET vlsm_service OR NOT TARGET vlsm-client)
  return()
endif()

vlsm_test(client_test vlsm_service vlsm_format PROPERTIES TIMEOUT 300)
target_compile_definitions(client_test PRIVATE VLSM_BIN_DIR="${CMAKE_BINARY_DIR}/bin")
add_dependencies(client_test vlsm-client)
