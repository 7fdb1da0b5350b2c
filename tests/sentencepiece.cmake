# SentencePiece tokenizer tests. Included from tests/CMakeLists.txt.
if(NOT TARGET vlsm_sentencepiece)
  return()
endif()

vlsm_test(sentencepiece_tokenizer_test vlsm_sentencepiece)

# One process with LibTorch, a gRPC server + client (protobuf 3.21) and
# SentencePiece: proves the static SentencePiece does not bring its own
# protobuf (Debian's libsentencepiece.so.0 does, and crashes such a process).
find_package(gRPC CONFIG REQUIRED)
find_package(Protobuf REQUIRED)
vlsm_test(sentencepiece_coexistence_test
  vlsm_sentencepiece ${TORCH_LIBRARIES} gRPC::grpc++ gRPC::grpc++_reflection
  protobuf::libprotobuf)
set(VLSM_HEALTH_PROTO_OUT ${CMAKE_CURRENT_BINARY_DIR}/health_proto)
file(MAKE_DIRECTORY ${VLSM_HEALTH_PROTO_OUT})
protobuf_generate(TARGET sentencepiece_coexistence_test LANGUAGE cpp
  PROTOS health_check.proto PROTOC_OUT_DIR ${VLSM_HEALTH_PROTO_OUT})
protobuf_generate(TARGET sentencepiece_coexistence_test LANGUAGE grpc
  PROTOS health_check.proto PROTOC_OUT_DIR ${VLSM_HEALTH_PROTO_OUT}
  GENERATE_EXTENSIONS .grpc.pb.h .grpc.pb.cc
  PLUGIN "protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>")
target_include_directories(sentencepiece_coexistence_test PRIVATE ${VLSM_HEALTH_PROTO_OUT})
