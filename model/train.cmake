# vlsm-train and its parts. Included from model/CMakeLists.txt (not in
# engine-only or fuzz builds).
if(VLSM_FUZZ OR NOT TARGET vlsm_pipeline OR NOT TARGET vlsm_imaging)
  return()
endif()

# Torch-free: the dataset reader (images through the serving preprocessing).
add_library(vlsm_dataset dataset.cc)
target_include_directories(vlsm_dataset PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(vlsm_dataset
  PUBLIC vlsm_imaging absl::status absl::statusor
  PRIVATE absl::strings nlohmann_json::nlohmann_json)

# Torch: loss, trainable model and adapter, the loops; SentencePiece training
# for from-scratch models where the build has SentencePiece.
add_library(vlsm_train
  train_loss.cc
  train_model.cc
  train_adapter.cc
  train_eval.cc
  trainer.cc
  train_tokenizer.cc
)
target_include_directories(vlsm_train PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(vlsm_train
  PUBLIC vlsm_pipeline vlsm_dataset vlsm_engine absl::status absl::statusor
  PRIVATE ${TORCH_LIBRARIES} absl::strings nlohmann_json::nlohmann_json)
# (VLSM_HAVE_SENTENCEPIECE comes with vlsm_sentencepiece through vlsm_io.)
if(TARGET vlsm_sentencepiece)
  target_link_libraries(vlsm_train PRIVATE vlsm_sentencepiece)
endif()

add_executable(vlsm-train train_main.cc)
target_link_libraries(vlsm-train PRIVATE vlsm_train absl::flags absl::flags_parse
  absl::str_format ${TORCH_LIBRARIES})
