# Operator metrics tests (scrape /metrics over a raw loopback socket).
# Included from tests/CMakeLists.txt.
if(NOT TARGET vlsm_metrics)
  return()
endif()

vlsm_test(metrics_test vlsm_metrics Threads::Threads)
