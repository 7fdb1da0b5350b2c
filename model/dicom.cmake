# DICOM decoding (DCMTK for parsing and JPEG/JPEG-LS/RLE, OpenJPEG for
# JPEG 2000). Included from model/CMakeLists.txt. Links the DCMTK modules it
# uses (not DCMTK::DCMTK, which drags in all 27, dcmnet/dcmtls included).
find_package(DCMTK CONFIG REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(OPENJP2 REQUIRED IMPORTED_TARGET libopenjp2)
find_package(ZLIB REQUIRED)

add_library(vlsm_dicom
  dicom_decode.cc
  dicom_parse.cc
  dicom_pixels.cc
  dicom_j2k.cc
)
target_include_directories(vlsm_dicom PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(vlsm_dicom
  PUBLIC absl::status absl::statusor absl::strings
  PRIVATE absl::base
          DCMTK::dcmdata DCMTK::dcmjpeg DCMTK::dcmjpls DCMTK::ofstd
          PkgConfig::OPENJP2 ZLIB::ZLIB)
target_link_libraries(vlsm_io INTERFACE vlsm_dicom)
