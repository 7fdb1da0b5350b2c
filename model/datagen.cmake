# vlsm-datagen: seeded synthetic datasets (shapes, polyp, ultrasound) in the
# VLSM-Adapter layout; torch-free. Included from model/CMakeLists.txt after
# imaging.cmake (which defines the opencv_* targets).
add_library(vlsm_datagen STATIC
  ${CMAKE_CURRENT_LIST_DIR}/datagen_random.cc
  ${CMAKE_CURRENT_LIST_DIR}/datagen_scene.cc
  ${CMAKE_CURRENT_LIST_DIR}/datagen_texture.cc
  ${CMAKE_CURRENT_LIST_DIR}/datagen_shapes.cc
  ${CMAKE_CURRENT_LIST_DIR}/datagen_polyp.cc
  ${CMAKE_CURRENT_LIST_DIR}/datagen_ultrasound.cc
  ${CMAKE_CURRENT_LIST_DIR}/datagen_dataset.cc
)
target_include_directories(vlsm_datagen PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(vlsm_datagen
  PUBLIC absl::status absl::statusor absl::strings absl::str_format
         nlohmann_json::nlohmann_json opencv_core
  PRIVATE opencv_imgproc opencv_imgcodecs)

add_executable(vlsm-datagen ${CMAKE_CURRENT_LIST_DIR}/datagen_main.cc)
target_link_libraries(vlsm-datagen PRIVATE vlsm_datagen absl::flags absl::flags_parse
  absl::flags_usage)
