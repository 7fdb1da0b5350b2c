# vlsm-datagen's library: determinism, layout, masks and prompt truth.
# Included from tests/CMakeLists.txt.
vlsm_test(datagen_test vlsm_datagen opencv_core opencv_imgproc opencv_imgcodecs)
