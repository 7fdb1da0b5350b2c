// A tiny std-only facade over SentencePiece.
//
// Why it exists: sentencepiece_processor.h declares
// `namespace absl { using std::string_view; }`, which clashes with Abseil's
// own absl::string_view in any translation unit that sees both. spm_bridge.cc
// is therefore the ONLY file that includes sentencepiece_processor.h or
// sentencepiece_trainer.h, and this header uses the standard library only (no
// Abseil, no SentencePiece types), so it can be included anywhere.
//
// The library behind it is the static SentencePiece built against the system
// protobuf by deploy/build-sentencepiece.sh (never Debian's libsentencepiece.so.0,
// which bundles and exports protobuf 3.14; see model/sentencepiece.cmake).
//
// Errors: no exception escapes; functions return SpmStatus, whose code uses
// the canonical numbering shared by absl::StatusCode and
// sentencepiece::util::StatusCode (0 OK, 3 InvalidArgument, 5 NotFound, ...).
#ifndef VLSM_MODEL_SPM_BRIDGE_H_
#define VLSM_MODEL_SPM_BRIDGE_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace vlsm {
namespace spm {

struct SpmStatus {
  int code = 0;  // canonical status code; 0 is OK
  std::string message;
  bool ok() const { return code == 0; }
};

// The model's own special-token ids (its trainer spec); -1 where disabled.
struct SpecialIds {
  int unk = -1;
  int bos = -1;
  int eos = -1;
  int pad = -1;
};

// A loaded SentencePiece model.
// Ownership: owns the processor; movable only through the unique_ptr.
// Threading: immutable after Open; every const method is safe to call from
// many threads at once (SentencePieceProcessor's encoders are const).
class SpmModel {
 public:
  // Reads a serialized ModelProto file (e.g. spiece.model).
  // NotFound when the file is missing, InvalidArgument/Internal when it does
  // not parse as a model.
  static SpmStatus Open(const std::string& path, std::unique_ptr<SpmModel>* model);

  ~SpmModel();
  SpmModel(const SpmModel&) = delete;
  SpmModel& operator=(const SpmModel&) = delete;

  // Encodes text to piece ids with the model's normalizer; adds no BOS/EOS.
  // The bytes are passed through as given (validate UTF-8 before calling).
  SpmStatus Encode(std::string_view text, std::vector<int>* ids) const;

  // The id of `piece` in the vocabulary, or -1 when it is not in it.
  int PieceId(std::string_view piece) const;

  int vocab_size() const;
  SpecialIds special_ids() const;

 private:
  struct Impl;
  explicit SpmModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct TrainOptions {
  std::string model_type = "unigram";  // "unigram", "bpe", "char" or "word"
  int vocab_size = 8000;
  // Any other TrainerSpec/NormalizerSpec field by its spm_train flag name,
  // e.g. {"pad_id", "3"}, {"hard_vocab_limit", "false"}. "input" and
  // "model_prefix" are refused (the corpus and output are arguments).
  std::map<std::string, std::string> extra;
};

// Trains a model on `corpus_path` (UTF-8 text, one sentence per line) and
// writes the serialized model to exactly `model_path` (no .vocab file).
// Quiet: lowers SentencePiece's process-wide log level to warnings (it is
// otherwise chatty on stderr).
// Threading: safe to call from any thread, also while models encode; calls
// are serialized internally (SentencePiece's trainer keeps global state).
SpmStatus TrainModel(const std::string& corpus_path, const std::string& model_path,
                     const TrainOptions& options);

}  // namespace spm
}  // namespace vlsm

#endif  // VLSM_MODEL_SPM_BRIDGE_H_
