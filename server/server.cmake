# The gRPC services and vlsm-server. Included from server/CMakeLists.txt
# (after batcher.cmake and metrics.cmake).
find_package(gRPC CONFIG REQUIRED)
find_package(DCMTK CONFIG REQUIRED)
add_library(vlsm_service STATIC
  admin_auth.cc admin_service.cc call_util.cc request_image.cc segment_processor.cc
  segment_stream_reactor.cc segmentation_service.cc server_builder.cc server_credentials.cc
  status_util.cc upload_reactor.cc worker_pool.cc)
target_include_directories(vlsm_service PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(vlsm_service
  PUBLIC vlsm_pipeline vlsm_batcher vlsm_registry vlsm_proto gRPC::grpc++
         gRPC::grpc++_reflection absl::status absl::statusor absl::synchronization absl::time
         Threads::Threads
  PRIVATE vlsm_format vlsm_dicom_seg OpenSSL::Crypto)
if(TARGET vlsm_metrics)
  target_link_libraries(vlsm_service PUBLIC vlsm_metrics)
else()
  target_sources(vlsm_service PRIVATE null_metrics.cc)
endif()

add_executable(vlsm-server server_main.cc)
target_link_libraries(vlsm-server PRIVATE vlsm_service vlsm_shutdown_signals absl::flags
  absl::flags_parse absl::flags_usage DCMTK::oflog)
if(TARGET vlsm_metrics)
  target_compile_definitions(vlsm-server PRIVATE VLSM_HAVE_PROMETHEUS_METRICS=1)
endif()

# `vlsm-bench serve`, the gRPC load generator, when the server is built
# (vlsm-bench itself stays torch-only for the engine-only build).
if(TARGET vlsm-bench)
  target_sources(vlsm-bench PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/bench_serve.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/bench_serve_support.cc)
  target_link_libraries(vlsm-bench PRIVATE vlsm_service)
  target_compile_definitions(vlsm-bench PRIVATE VLSM_BENCH_SERVE=1)
endif()
