// Text -> token ids for the CLIPSeg text encoder.
//
// A Tokenizer turns one prompt into a fixed-size pair of vectors, both
// max_length() long:
//   input_ids      = [bos] + the first (max_length - 2) content ids + [eos],
//                    then pad_id() up to max_length;
//   attention_mask = 1 over [bos .. eos], 0 over the padding.
// The mask is positional: for CLIP the pad id equals the eos id, so it cannot
// be derived from the ids.
//
// Ownership: a Tokenizer owns all of its vocabulary data; the files it was
// loaded from are read during loading only.
// Threading: Encode is const and may be called from many threads at once
// (implementations guard any internal cache themselves).
// Errors: absl::Status only, no exception escapes. Encode returns
// InvalidArgument for text that is not valid UTF-8 (overlong forms, UTF-16
// surrogates and code points above U+10FFFF included) or longer than
// kMaxPromptBytes; empty text encodes to [bos, eos] + padding.
#ifndef VLSM_MODEL_TOKENIZER_H_
#define VLSM_MODEL_TOKENIZER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vlsm {

// Longest prompt Encode accepts, in bytes of UTF-8. A CLIP prompt keeps at
// most 75 tokens, so anything near this is not a prompt; the bound keeps the
// per-request cost of text cleanup and BPE small and predictable.
inline constexpr size_t kMaxPromptBytes = 16 * 1024;

struct TokenizedText {
  std::vector<int64_t> input_ids, attention_mask;  // both max_length long
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  virtual absl::StatusOr<TokenizedText> Encode(absl::string_view utf8) const = 0;
  virtual int64_t max_length() const = 0;
  virtual int64_t bos_id() const = 0;
  virtual int64_t eos_id() const = 0;
  virtual int64_t pad_id() const = 0;
};

// Chooses the tokenizer from what `model_dir` ships, first match wins:
//   1. vocab.json + merges.txt: CLIP BPE (HF CLIPTokenizer files), with
//      tokenizer_config.json / special_tokens_map.json when present;
//   2. bpe_simple_vocab_16e6.txt.gz: CLIP BPE from openai's merges file;
//   3. spiece.model or tokenizer.model: SentencePiece (only in builds that
//      have it; Unimplemented otherwise).
// NotFound when the directory has none of these. `max_length` is the text
// model's max_position_embeddings (77 for CLIPSeg); a tokenizer_config.json
// model_max_length, when present, caps it. InvalidArgument for max_length < 2
// and for malformed files.
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizer(const std::string& model_dir,
                                                         int64_t max_length);

}  // namespace vlsm

#endif  // VLSM_MODEL_TOKENIZER_H_
