// A Tokenizer backed by a SentencePiece model (T5/LLaMA-style checkpoints),
// with the same output contract as the CLIP tokenizer:
//   input_ids      = [bos] + first (max_length - 2) pieces + [eos], then
//                    pad_id up to max_length;
//   attention_mask = 1 over [bos .. eos], 0 over the padding.
// Text goes through the model's own normalizer (e.g. nmt_nfkc); nothing is
// lower-cased here.
//
// Loading, from `model_dir`:
//   model file: spiece.model, else tokenizer.model (NotFound if neither).
//   special ids, per token (bos, eos, pad), the first that applies:
//     1. "<kind>_token" in special_tokens_map.json,
//     2. "<kind>_token" in tokenizer_config.json,
//     3. the model's own bos_id/eos_id/pad_id (its trainer spec),
//     4. pad only: the eos id (CLIP's convention: pad with end-of-text).
//   A config token is a string or an object with "content" (transformers'
//   AddedToken); null means "not named here". A named token that is not a
//   piece of the model is InvalidArgument, as is a missing bos or eos.
//   Unreadable/malformed JSON is InvalidArgument.
//   max_length: tokenizer_config.json's model_max_length, when present and
//   below 1e9 (transformers' "no limit" sentinel is 1e30), caps it; below 2
//   after that is InvalidArgument.
//
// Ownership: the returned tokenizer owns the model; model_dir is read during
// the call only.
// Threading: Encode is const and safe to call from many threads at once.
// Errors (no exception escapes): Encode returns InvalidArgument for text that
// is not valid UTF-8 (overlong forms, surrogates and code points above
// U+10FFFF included) or longer than kMaxPromptBytes; empty text encodes to
// [bos, eos] + padding.
#ifndef VLSM_MODEL_SENTENCEPIECE_TOKENIZER_H_
#define VLSM_MODEL_SENTENCEPIECE_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "model/tokenizer.h"

namespace vlsm {

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadSentencePieceTokenizer(const std::string& model_dir,
                                                                      int64_t max_length);

}  // namespace vlsm

#endif  // VLSM_MODEL_SENTENCEPIECE_TOKENIZER_H_
