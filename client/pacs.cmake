# vlsm-pacs-bridge: DICOM Storage SCP -> vlsm-server SegmentStream -> DICOM SEG
# -> C-STORE / STOW-RS. Included from client/CMakeLists.txt. Torch-free.
find_package(DCMTK CONFIG REQUIRED)
find_package(CURL REQUIRED)
find_package(prometheus-cpp CONFIG REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(re2 CONFIG QUIET)
if(TARGET re2::re2)
  set(_vlsm_pacs_re2 re2::re2)
else()
  pkg_check_modules(VLSM_PACS_RE2 REQUIRED IMPORTED_TARGET re2)
  set(_vlsm_pacs_re2 PkgConfig::VLSM_PACS_RE2)
endif()

# Everything but the SEG builder's caller: testable before vlsm_dicom_seg.
add_library(vlsm_pacs_core STATIC
  pacs_clock.cc pacs_delivery.cc pacs_instance.cc pacs_metrics.cc pacs_privacy.cc
  pacs_routing.cc pacs_scp.cc pacs_segmenter.cc pacs_sender.cc pacs_series_assembler.cc
  pacs_slice_order.cc pacs_spool.cc)
target_include_directories(vlsm_pacs_core PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(vlsm_pacs_core
  PUBLIC vlsm_proto vlsm_channel_credentials gRPC::grpc++ absl::status absl::statusor
         absl::strings absl::str_format absl::synchronization absl::time absl::flat_hash_map
         absl::flat_hash_set Threads::Threads
  PRIVATE vlsm_imaging vlsm_format vlsm_metrics prometheus-cpp::core DCMTK::dcmnet
          DCMTK::dcmdata DCMTK::ofstd DCMTK::oflog CURL::libcurl ${_vlsm_pacs_re2}
          nlohmann_json::nlohmann_json OpenSSL::Crypto)

if(TARGET vlsm_dicom_seg)
  add_library(vlsm_pacs STATIC pacs_bridge.cc)
  target_include_directories(vlsm_pacs PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(vlsm_pacs PUBLIC vlsm_pacs_core vlsm_dicom_seg)

  add_executable(vlsm-pacs-bridge pacs_bridge_main.cc)
  target_link_libraries(vlsm-pacs-bridge PRIVATE vlsm_pacs vlsm_shutdown_signals absl::flags
    absl::flags_parse absl::flags_usage DCMTK::oflog)
else()
  message(STATUS "vlsm-pacs-bridge: skipped (needs vlsm_dicom_seg)")
endif()
