# DICOM Segmentation objects (dcmseg) from binary masks. Included from
# model/CMakeLists.txt after dicom.cmake; links only the DCMTK modules it uses.
if(NOT TARGET vlsm_dicom)
  return()
endif()
add_library(vlsm_dicom_seg dicom_seg.cc dicom_seg_source.cc dicom_seg_text.cc)
target_include_directories(vlsm_dicom_seg PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(vlsm_dicom_seg
  PUBLIC absl::status absl::statusor
  PRIVATE vlsm_dicom absl::strings
          DCMTK::dcmseg DCMTK::dcmfg DCMTK::dcmiod DCMTK::dcmdata DCMTK::ofstd)
