// The only translation unit that includes SentencePiece's headers. It must
// not include Abseil (see spm_bridge.h); the check after the includes turns
// an accidental Abseil include into a compile error.
#include "model/spm_bridge.h"

#include <fstream>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "sentencepiece_processor.h"
#include "sentencepiece_trainer.h"

#ifdef ABSL_BASE_CONFIG_H_
#error "spm_bridge.cc must not include Abseil (see model/spm_bridge.h)"
#endif

namespace vlsm {
namespace spm {
namespace {

SpmStatus FromSpm(const sentencepiece::util::Status& status) {
  if (status.ok()) return {};
  return {static_cast<int>(status.code()), status.message()};
}

SpmStatus Error(sentencepiece::util::StatusCode code, std::string message) {
  return {static_cast<int>(code), std::move(message)};
}

// Feeds the trainer one line of a text file at a time.
class LineIterator : public sentencepiece::SentenceIterator {
 public:
  explicit LineIterator(const std::string& path) : in_(path) {
    if (!in_) {
      status_ = sentencepiece::util::Status(sentencepiece::util::StatusCode::kNotFound,
                                            "cannot open corpus " + path);
      done_ = true;
    } else {
      Next();
    }
  }

  bool done() const override { return done_; }
  void Next() override {
    if (!std::getline(in_, line_)) {
      done_ = true;
      if (in_.bad()) {
        status_ = sentencepiece::util::Status(sentencepiece::util::StatusCode::kDataLoss,
                                              "read error in the corpus");
      }
    }
  }
  const std::string& value() const override { return line_; }
  sentencepiece::util::Status status() const override { return status_; }

 private:
  std::ifstream in_;
  std::string line_;
  bool done_ = false;
  sentencepiece::util::Status status_;
};

}  // namespace

struct SpmModel::Impl {
  sentencepiece::SentencePieceProcessor processor;
};

SpmModel::SpmModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SpmModel::~SpmModel() = default;

SpmStatus SpmModel::Open(const std::string& path, std::unique_ptr<SpmModel>* model) {
  auto impl = std::make_unique<Impl>();
  SpmStatus status = FromSpm(impl->processor.Load(path));
  if (!status.ok()) {
    status.message = "cannot load SentencePiece model " + path + ": " + status.message;
    return status;
  }
  model->reset(new SpmModel(std::move(impl)));
  return {};
}

SpmStatus SpmModel::Encode(std::string_view text, std::vector<int>* ids) const {
  return FromSpm(impl_->processor.Encode(text, ids));
}

int SpmModel::PieceId(std::string_view piece) const {
  const sentencepiece::SentencePieceProcessor& p = impl_->processor;
  const int id = p.PieceToId(piece);
  // PieceToId answers unk_id for unknown pieces; tell them from the unk piece.
  if (id < 0 || (p.IsUnknown(id) && p.IdToPiece(id) != piece)) return -1;
  return id;
}

int SpmModel::vocab_size() const { return impl_->processor.GetPieceSize(); }

SpecialIds SpmModel::special_ids() const {
  const sentencepiece::SentencePieceProcessor& p = impl_->processor;
  return {p.unk_id(), p.bos_id(), p.eos_id(), p.pad_id()};
}

SpmStatus TrainModel(const std::string& corpus_path, const std::string& model_path,
                     const TrainOptions& options) {
  std::unordered_map<std::string, std::string> kwargs;
  for (const auto& [key, value] : options.extra) {
    if (key == "input" || key == "model_prefix") {
      return Error(sentencepiece::util::StatusCode::kInvalidArgument,
                   "TrainOptions.extra must not set " + key);
    }
    kwargs[key] = value;
  }
  kwargs["model_type"] = options.model_type;
  kwargs["vocab_size"] = std::to_string(options.vocab_size);
  if (kwargs.count("minloglevel") == 0) kwargs["minloglevel"] = "1";  // warnings and up

  static std::mutex* const train_mu = new std::mutex;
  std::string serialized;
  {
    std::lock_guard<std::mutex> lock(*train_mu);
    LineIterator lines(corpus_path);
    if (!lines.status().ok()) return FromSpm(lines.status());
    SpmStatus status =
        FromSpm(sentencepiece::SentencePieceTrainer::Train(kwargs, &lines, &serialized));
    if (!status.ok()) {
      status.message = "SentencePiece training failed: " + status.message;
      return status;
    }
  }

  std::ofstream out(model_path, std::ios::binary | std::ios::trunc);
  out.write(serialized.data(), static_cast<std::streamsize>(serialized.size()));
  out.close();
  if (!out) {
    return Error(sentencepiece::util::StatusCode::kInternal, "cannot write model " + model_path);
  }
  return {};
}

}  // namespace spm
}  // namespace vlsm
