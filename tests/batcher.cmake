# Dynamic batcher tests. Included from tests/CMakeLists.txt.
if(NOT TARGET vlsm_batcher)
  return()
endif()

vlsm_test(batcher_test vlsm_batcher)
