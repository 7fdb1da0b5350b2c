// Trains the SentencePiece tokenizer of a from-scratch model (vlsm-train
// --mode scratch) on a dataset's prompts and writes it into a model
// directory as `spiece.model`, which LoadTokenizer picks up.
//
// Special ids: pad 0, unk 1, bos 2, eos 3. The eos id must not be 2: the text
// encoder pools at argmax(ids) for the legacy eos id 2 (HF CLIP), which only
// works for CLIP's vocabulary.
// Threading: safe from any thread (the trainer serializes itself).
// Errors: InvalidArgument for no prompts; Internal when SentencePiece fails;
// Unimplemented in builds without SentencePiece.
#ifndef VLSM_MODEL_TRAIN_TOKENIZER_H_
#define VLSM_MODEL_TRAIN_TOKENIZER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace vlsm {

struct TrainedTokenizer {
  int64_t vocab_size = 0;
  int64_t pad_id = 0, bos_id = 2, eos_id = 3;
};

// `vocab_size` is an upper bound (the corpus may support fewer pieces).
absl::StatusOr<TrainedTokenizer> TrainPromptTokenizer(const std::vector<std::string>& prompts,
                                                      int vocab_size, const std::string& model_dir);

}  // namespace vlsm

#endif  // VLSM_MODEL_TRAIN_TOKENIZER_H_
