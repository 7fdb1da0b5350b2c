# DICOM SEG tests. Fixtures: tests/data/dicom-seg (copies of pydicom's test
# files, see its README). Included from tests/CMakeLists.txt.
if(NOT TARGET vlsm_dicom_seg)
  return()
endif()
find_package(DCMTK CONFIG REQUIRED)
vlsm_test(dicom_seg_test vlsm_dicom_seg DCMTK::dcmseg DCMTK::dcmfg DCMTK::dcmiod
  DCMTK::dcmdata DCMTK::ofstd)

# External check: dcmdump (package dcmtk), dciodvfy and pydicom (python3-pydicom, with
# numpy, under /usr/bin/python3) read the SEGs the samples writer makes.
add_executable(dicom_seg_samples dicom_seg_samples.cc)
target_include_directories(dicom_seg_samples PRIVATE ${PROJECT_SOURCE_DIR})
target_compile_definitions(dicom_seg_samples PRIVATE VLSM_TESTDATA="${VLSM_TESTDATA}")
target_link_libraries(dicom_seg_samples PRIVATE vlsm_dicom_seg nlohmann_json::nlohmann_json
  DCMTK::dcmdata DCMTK::ofstd)
# dicom3tools' dciodvfy (package dicom3tools) also validates the IOD.
find_program(VLSM_DCMDUMP dcmdump REQUIRED)
find_program(VLSM_DCIODVFY dciodvfy REQUIRED)
add_test(NAME dicom_seg_external_check
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/dicom_seg_check.py
          --samples $<TARGET_FILE:dicom_seg_samples> --dcmdump ${VLSM_DCMDUMP}
          --dciodvfy ${VLSM_DCIODVFY})

# mask_encoding = DICOM_SEG through an in-process vlsm-server.
if(TARGET vlsm_service)
  find_package(gRPC CONFIG REQUIRED)
  vlsm_test(dicom_seg_service_test vlsm_service vlsm_format gRPC::grpc++ DCMTK::dcmseg
    DCMTK::dcmfg DCMTK::dcmiod DCMTK::dcmdata DCMTK::ofstd PROPERTIES TIMEOUT 300)
endif()
