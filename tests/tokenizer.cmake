# CLIP BPE tokenizer and ftfy text cleanup tests. Included from
# tests/CMakeLists.txt.
if(NOT TARGET vlsm_tokenizer)
  return()
endif()

vlsm_test(clip_tokenizer_test vlsm_tokenizer nlohmann_json::nlohmann_json Threads::Threads)
vlsm_test(text_fixes_test vlsm_tokenizer)
