# Dynamic batcher and its Engine executor. Included from
# server/CMakeLists.txt.
add_library(vlsm_batcher batcher.cc engine_executor.cc)
target_include_directories(vlsm_batcher PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(vlsm_batcher
  PUBLIC vlsm_engine vlsm_registry absl::status absl::statusor absl::synchronization
         absl::time Threads::Threads)
