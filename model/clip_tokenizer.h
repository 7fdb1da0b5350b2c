// CLIP's byte-level BPE tokenizer, exact to HF's (slow) CLIPTokenizer on its
// ftfy path, as VLSM-Adapter feeds CLIPSeg (transformers 4.41, ftfy 6.2.3):
//   1. split the raw text on the special tokens (exact, leftmost first);
//   2. every other piece: ftfy.fix_text (model/text_fixes.h), whitespace runs
//      (Unicode White_Space) to one space and strip, full Unicode lowercasing
//      (Python's str.lower(): final sigma, İ -> i̇), CLIP's pre-tokenization
//      regex, byte-to-unicode mapping, BPE with "</w>" word ends;
//   3. keep the first max_length - 2 ids, wrap in bos/eos, pad with pad_id.
// tests/data/clip-tokenizer/README.md spells out each step.
//
// Vocabulary sources: HF's vocab.json + merges.txt (special tokens from
// tokenizer_config.json / special_tokens_map.json, defaulting to CLIP's), or
// openai's bpe_simple_vocab_16e6.txt.gz, from which the vocabulary is derived
// as openai and HF do (256 byte symbols, the same with "</w>", one token per
// merge, then <|startoftext|> and <|endoftext|>); pad is <|endoftext|>.
//
// Ownership: owns its vocabulary; the files are read during loading only.
// Threading: Encode is safe from many threads. Repeated words hit a bounded
// cache (word -> ids), sharded, each shard behind its own mutex and cleared
// when full; results never depend on the cache.
// Errors: loading gives NotFound for a missing file and InvalidArgument for
// malformed ones or max_length < 2; Encode as in model/tokenizer.h.
#ifndef VLSM_MODEL_CLIP_TOKENIZER_H_
#define VLSM_MODEL_CLIP_TOKENIZER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "model/tokenizer.h"

namespace re2 {
class RE2;
}

namespace vlsm {

class ClipBpeTokenizer final : public Tokenizer {
 public:
  static constexpr size_t kDefaultCacheEntries = 100000;

  // Optional paths may be empty. tokenizer_config.json's model_max_length,
  // when present, caps max_length. cache_entries bounds the word cache (0
  // turns it off).
  static absl::StatusOr<std::unique_ptr<ClipBpeTokenizer>> FromHfFiles(
      const std::string& vocab_json_path, const std::string& merges_txt_path,
      const std::string& tokenizer_config_path, const std::string& special_tokens_map_path,
      int64_t max_length, size_t cache_entries = kDefaultCacheEntries);
  static absl::StatusOr<std::unique_ptr<ClipBpeTokenizer>> FromOpenAiGz(
      const std::string& path, int64_t max_length, size_t cache_entries = kDefaultCacheEntries);

  ~ClipBpeTokenizer() override;
  ClipBpeTokenizer(const ClipBpeTokenizer&) = delete;
  ClipBpeTokenizer& operator=(const ClipBpeTokenizer&) = delete;

  absl::StatusOr<TokenizedText> Encode(absl::string_view utf8) const override;
  int64_t max_length() const override { return max_length_; }
  int64_t bos_id() const override { return bos_id_; }
  int64_t eos_id() const override { return eos_id_; }
  int64_t pad_id() const override { return pad_id_; }

  // The token string of an id (byte-unicode form, e.g. "poly", "p</w>");
  // empty for an unknown id. For diagnostics.
  absl::string_view IdToToken(int64_t id) const;
  size_t vocab_size() const { return id_to_token_.size(); }
  // Words currently cached (at most the capacity given at load).
  size_t cache_size() const;
  // Whether long words (over 24 bytes) run BPE on a heap, O(n log n), rather
  // than HF's pass-by-pass loop, which is quadratic (a 16 KiB word: ~3 ms
  // instead of ~170 ms). Both give the same symbols; the heap is used only
  // for merge lists where that is guaranteed (see .cc).
  bool uses_heap_bpe() const { return heap_bpe_; }
  // BPE symbols of one pre-token by either algorithm (tests compare them).
  std::vector<int64_t> BpeForTesting(absl::string_view word, bool reference) const;

 private:
  // A BPE symbol is an index into symbols_; merges map a pair of symbols to
  // its rank and the merged symbol.
  struct Merge {
    int32_t rank;
    int32_t merged;
  };
  struct CacheShard {
    mutable absl::Mutex mu;
    absl::flat_hash_map<std::string, std::vector<int32_t>> words ABSL_GUARDED_BY(mu);
  };
  static constexpr size_t kCacheShards = 16;

  ClipBpeTokenizer() = default;
  // Builds everything from vocab, merge lines (header excluded) and special
  // tokens; shared by both loaders.
  absl::Status Init(absl::flat_hash_map<std::string, int64_t> vocab,
                    const std::vector<std::pair<std::string, std::string>>& merges,
                    const std::vector<std::string>& split_tokens, const std::string& bos,
                    const std::string& eos, const std::string& pad, const std::string& unk,
                    int64_t max_length, size_t cache_entries);
  int32_t Symbol(const std::string& text);
  // Appends the ids of one pre-token (a "word" of the regex).
  void EncodeWord(absl::string_view word, std::vector<int64_t>* ids) const;
  // Vocabulary ids of one pre-token.
  std::vector<int32_t> Bpe(absl::string_view word) const;
  // In place on symbols; the second needs heap_bpe_.
  void BpeByPasses(std::vector<int32_t>* symbols) const;
  void BpeWithHeap(std::vector<int32_t>* symbols) const;
  const Merge* FindMerge(int32_t left, int32_t right) const;
  // Steps 2 of the header comment for a piece between special tokens; stops
  // once `ids` holds `limit` ids.
  void EncodePiece(absl::string_view piece, size_t limit, std::vector<int64_t>* ids) const;

  int64_t max_length_ = 0;
  int64_t bos_id_ = 0, eos_id_ = 0, pad_id_ = 0, unk_id_ = 0;
  absl::flat_hash_map<std::string, int64_t> vocab_;
  std::vector<std::string> id_to_token_;
  std::vector<std::string> symbols_;                      // symbol -> text
  absl::flat_hash_map<std::string, int32_t> symbol_ids_;  // text -> symbol
  std::vector<int64_t> symbol_vocab_ids_;                 // symbol -> id (or unk)
  absl::flat_hash_map<uint64_t, Merge> merges_;           // (left << 32 | right)
  bool heap_bpe_ = false;
  std::array<int32_t, 256> byte_symbol_{};                     // byte -> symbol
  std::array<int32_t, 256> byte_word_end_symbol_{};            // byte -> symbol + "</w>"
  std::array<std::string, 256> byte_text_;                     // byte -> its unicode char
  std::vector<std::pair<std::string, int64_t>> split_tokens_;  // longest first
  std::unique_ptr<re2::RE2> pretokenizer_;
  size_t cache_entries_per_shard_ = 0;
  mutable std::array<CacheShard, kCacheShards> cache_;
};

}  // namespace vlsm

#endif  // VLSM_MODEL_CLIP_TOKENIZER_H_
