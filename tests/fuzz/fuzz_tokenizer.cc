// libFuzzer target: the CLIP BPE tokenizer on arbitrary bytes: InvalidArgument
// for invalid UTF-8, otherwise exactly max_length ids inside the vocabulary.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "model/clip_tokenizer.h"

namespace {
std::unique_ptr<vlsm::ClipBpeTokenizer> tokenizer;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const std::string dir = VLSM_TOKENIZER_DIR;
  auto t = vlsm::ClipBpeTokenizer::FromHfFiles(dir + "/vocab.json", dir + "/merges.txt",
                                               dir + "/tokenizer_config.json",
                                               dir + "/special_tokens_map.json", 77);
  if (!t.ok()) std::abort();
  tokenizer = *std::move(t);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto out = tokenizer->Encode(std::string(reinterpret_cast<const char*>(data), size));
  if (!out.ok()) return 0;
  if (out->input_ids.size() != 77 || out->attention_mask.size() != 77) std::abort();
  for (int64_t id : out->input_ids) {
    if (id < 0 || id >= 49408) std::abort();
  }
  return 0;
}
