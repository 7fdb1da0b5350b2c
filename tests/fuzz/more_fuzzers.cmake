vlsm_fuzzer(fuzz_image_decode vlsm_imaging)
vlsm_fuzzer(fuzz_dicom vlsm_dicom)
vlsm_fuzzer(fuzz_tokenizer vlsm_tokenizer)
target_compile_definitions(fuzz_tokenizer PRIVATE
  VLSM_TOKENIZER_DIR="${PROJECT_SOURCE_DIR}/tests/data/clip-tokenizer")
