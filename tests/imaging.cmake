# Image decoding, preprocessing and mask tests. Included from
# tests/CMakeLists.txt. Reference data: tests/data/clipseg-tiny (preprocessing
# parity, masks) and tests/data/imaging/fixtures.safetensors (Pillow / torch
# outputs; regenerate with tests/imaging_fixtures.py).
set(VLSM_IMAGING_TEST_LIBS vlsm_imaging vlsm_format opencv_core opencv_imgcodecs opencv_imgproc)
vlsm_test(image_decode_test ${VLSM_IMAGING_TEST_LIBS})
vlsm_test(preprocess_test ${VLSM_IMAGING_TEST_LIBS})
vlsm_test(mask_test ${VLSM_IMAGING_TEST_LIBS})
