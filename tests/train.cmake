# vlsm-train's tests. Included from tests/CMakeLists.txt.
if(NOT TARGET vlsm_train)
  return()
endif()

vlsm_test(dataset_test vlsm_dataset vlsm_format opencv_core opencv_imgcodecs opencv_imgproc
  nlohmann_json::nlohmann_json)
# Loss, scores and gradients (torch: they inspect autograd directly).
vlsm_test(train_loss_test vlsm_train ${TORCH_LIBRARIES})
vlsm_test(train_model_test vlsm_train vlsm_engine ${TORCH_LIBRARIES})
if(TARGET vlsm_service)
  find_package(gRPC CONFIG REQUIRED)
  vlsm_test(train_test vlsm_train vlsm_service vlsm_format gRPC::grpc++ opencv_core
    opencv_imgcodecs opencv_imgproc nlohmann_json::nlohmann_json PROPERTIES TIMEOUT 300)
endif()
