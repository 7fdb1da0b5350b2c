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
vlsm_health_client(sentencepiece_coexistence_test)
