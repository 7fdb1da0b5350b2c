# vlsm-pacs-bridge's unit tests (tests/pacs_*_test.cc) and the Orthanc round
# trip (tests/pacs_orthanc_test.py). Included from tests/CMakeLists.txt.
if(NOT TARGET vlsm_pacs_core)
  return()
endif()
find_package(DCMTK CONFIG REQUIRED)

vlsm_test(pacs_spool_test vlsm_pacs_core)
vlsm_test(pacs_series_assembler_test vlsm_pacs_core)
vlsm_test(pacs_slice_order_test vlsm_pacs_core)
vlsm_test(pacs_routing_test vlsm_pacs_core)
vlsm_test(pacs_delivery_test vlsm_pacs_core)
vlsm_test(pacs_instance_test vlsm_pacs_core DCMTK::dcmdata DCMTK::ofstd)
vlsm_test(pacs_scp_test vlsm_pacs_core DCMTK::dcmdata DCMTK::ofstd PROPERTIES TIMEOUT 120)
vlsm_test(pacs_segmenter_test vlsm_pacs_core)
if(NOT TARGET vlsm_pacs)
  return()  # the SEG builder (model/dicom_seg) is not there
endif()
vlsm_test(pacs_bridge_test vlsm_pacs DCMTK::dcmdata DCMTK::ofstd)

if(TARGET vlsm-server AND TARGET vlsm-pacs-bridge)
  find_program(VLSM_ORTHANC Orthanc PATHS /usr/sbin)
  add_test(NAME pacs_orthanc_test
    COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/pacs_orthanc_test.py
            --bin ${CMAKE_BINARY_DIR}/bin --data ${VLSM_TESTDATA}
            --orthanc ${VLSM_ORTHANC})
  set_tests_properties(pacs_orthanc_test PROPERTIES TIMEOUT 600 RESOURCE_LOCK pacs_orthanc)
endif()
