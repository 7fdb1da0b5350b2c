# Image decoding (OpenCV codecs), model preprocessing and mask outputs;
# torch-free. Included from model/CMakeLists.txt.
# Debian's libopencv-*-dev packages ship no OpenCVConfig.cmake (that comes
# with libopencv-dev); fall back to the headers and libraries themselves.
# The opencv_* targets are global: tests/imaging.cmake links them too.
set(CMAKE_FIND_PACKAGE_TARGETS_GLOBAL ON)
find_package(OpenCV QUIET COMPONENTS core imgcodecs imgproc)
unset(CMAKE_FIND_PACKAGE_TARGETS_GLOBAL)
if(NOT OpenCV_FOUND)
  find_path(VLSM_OPENCV_INCLUDE_DIR opencv2/core.hpp PATH_SUFFIXES opencv4 REQUIRED)
  foreach(module core imgcodecs imgproc)
    find_library(VLSM_OPENCV_${module} opencv_${module} REQUIRED)
    add_library(opencv_${module} SHARED IMPORTED GLOBAL)
    set_target_properties(opencv_${module} PROPERTIES
      IMPORTED_LOCATION ${VLSM_OPENCV_${module}}
      INTERFACE_INCLUDE_DIRECTORIES ${VLSM_OPENCV_INCLUDE_DIR})
  endforeach()
endif()

add_library(vlsm_imaging STATIC
  ${CMAKE_CURRENT_LIST_DIR}/image_probe.cc
  ${CMAKE_CURRENT_LIST_DIR}/image_decode.cc
  ${CMAKE_CURRENT_LIST_DIR}/preprocess.cc
  ${CMAKE_CURRENT_LIST_DIR}/preprocess_config.cc
  ${CMAKE_CURRENT_LIST_DIR}/mask.cc
  ${CMAKE_CURRENT_LIST_DIR}/mask_overlay.cc
)
target_include_directories(vlsm_imaging PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(vlsm_imaging
  PUBLIC vlsm_format absl::status absl::statusor absl::strings
  PRIVATE nlohmann_json::nlohmann_json opencv_core opencv_imgcodecs opencv_imgproc)

target_link_libraries(vlsm_io INTERFACE vlsm_imaging)
