# Operator metrics: MakeNullMetrics() and the prometheus-cpp registry served
# on /metrics by our own small HTTP endpoint (metrics_http.h says why not
# civetweb). Included from server/CMakeLists.txt.
find_package(prometheus-cpp CONFIG REQUIRED)
add_library(vlsm_metrics null_metrics.cc prometheus_metrics.cc metrics_http.cc)
target_include_directories(vlsm_metrics PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(vlsm_metrics
  PUBLIC absl::status absl::statusor absl::strings absl::synchronization
  PRIVATE prometheus-cpp::core absl::flat_hash_map
          absl::flat_hash_set)
