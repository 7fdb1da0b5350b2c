# DICOM decoder tests. The reference values come from pydicom (Debian's
# python3-pydicom with python3-numpy and python3-pil under /usr/bin/python3),
# run by the test itself through tests/dicom_reference.py; for the files
# pydicom cannot decode here, DCMTK's dcmdjpeg/dcmdjpls/dcmdrle (package dcmtk)
# and OpenJPEG's opj_decompress (package libopenjp2-tools) decode first.
set(VLSM_PYDICOM_TEST_FILES /usr/lib/python3/dist-packages/pydicom/data/test_files
    CACHE PATH "pydicom's test_files directory (python3-pydicom)")
set(VLSM_REFERENCE_PYTHON /usr/bin/python3
    CACHE FILEPATH "A python3 with numpy and pydicom")
vlsm_test(dicom_decode_test vlsm_dicom absl::str_format nlohmann_json::nlohmann_json)
target_compile_definitions(dicom_decode_test PRIVATE
  VLSM_PYDICOM_TEST_FILES="${VLSM_PYDICOM_TEST_FILES}"
  VLSM_REFERENCE_PYTHON="${VLSM_REFERENCE_PYTHON}"
  VLSM_DICOM_REFERENCE_SCRIPT="${CMAKE_CURRENT_SOURCE_DIR}/dicom_reference.py")
