# SentencePiece tokenizer. Included from model/CMakeLists.txt.
#
# Links the static SentencePiece that deploy/build-sentencepiece.sh builds
# against the system protobuf-lite, never Debian's libsentencepiece.so.0: that
# one bundles protobuf-lite 3.14 and exports it, which crashes any process
# that also loads LibTorch or gRPC (protobuf 3.21).
#
# Optional: without the static library the build goes on without
# vlsm_sentencepiece (VLSM_HAVE_SENTENCEPIECE undefined, LoadTokenizer answers
# Unimplemented for SentencePiece models), unless VLSM_REQUIRE_SENTENCEPIECE.
if(VLSM_ENGINE_ONLY OR VLSM_FUZZ)
  return()
endif()

option(VLSM_REQUIRE_SENTENCEPIECE "Fail when the static SentencePiece is missing" OFF)
set(VLSM_SENTENCEPIECE_ROOT /opt/vlsm/sentencepiece
    CACHE PATH "Prefix of the SentencePiece built by deploy/build-sentencepiece.sh")
# Exact paths, not find_*(): /usr has Debian's libsentencepiece-dev, which
# must never be picked up instead.
set(VLSM_SPM_INCLUDE_DIR ${VLSM_SENTENCEPIECE_ROOT}/include)
set(VLSM_SPM_LIBRARY ${VLSM_SENTENCEPIECE_ROOT}/lib/libsentencepiece.a)
set(VLSM_SPM_TRAIN_LIBRARY ${VLSM_SENTENCEPIECE_ROOT}/lib/libsentencepiece_train.a)
if(NOT EXISTS ${VLSM_SPM_INCLUDE_DIR}/sentencepiece_processor.h
   OR NOT EXISTS ${VLSM_SPM_LIBRARY} OR NOT EXISTS ${VLSM_SPM_TRAIN_LIBRARY})
  set(_vlsm_spm_missing
    "No static SentencePiece under ${VLSM_SENTENCEPIECE_ROOT}: run "
    "deploy/build-sentencepiece.sh (as root), or pass -DVLSM_SENTENCEPIECE_ROOT=<prefix>.")
  if(VLSM_REQUIRE_SENTENCEPIECE)
    message(FATAL_ERROR ${_vlsm_spm_missing})
  endif()
  message(WARNING ${_vlsm_spm_missing} " Building without SentencePiece support.")
  return()
endif()
find_package(Protobuf REQUIRED)

add_library(vlsm_spm_static STATIC IMPORTED)
set_target_properties(vlsm_spm_static PROPERTIES
  IMPORTED_LOCATION ${VLSM_SPM_LIBRARY}
  INTERFACE_LINK_LIBRARIES "protobuf::libprotobuf-lite;Threads::Threads")
add_library(vlsm_spm_train_static STATIC IMPORTED)
set_target_properties(vlsm_spm_train_static PROPERTIES
  IMPORTED_LOCATION ${VLSM_SPM_TRAIN_LIBRARY}
  INTERFACE_LINK_LIBRARIES vlsm_spm_static)

add_library(vlsm_sentencepiece
  spm_bridge.cc
  sentencepiece_tokenizer.cc
)
target_include_directories(vlsm_sentencepiece PUBLIC ${PROJECT_SOURCE_DIR})
# Only spm_bridge.cc includes SentencePiece's headers (see spm_bridge.h).
set_source_files_properties(spm_bridge.cc PROPERTIES
  INCLUDE_DIRECTORIES ${VLSM_SPM_INCLUDE_DIR})
target_compile_definitions(vlsm_sentencepiece PUBLIC VLSM_HAVE_SENTENCEPIECE)
target_link_libraries(vlsm_sentencepiece
  PUBLIC absl::status absl::statusor absl::strings
  PRIVATE vlsm_spm_train_static vlsm_spm_static nlohmann_json::nlohmann_json)
target_link_libraries(vlsm_io INTERFACE vlsm_sentencepiece)
