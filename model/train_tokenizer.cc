#include "model/train_tokenizer.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#ifdef VLSM_HAVE_SENTENCEPIECE
#include "model/spm_bridge.h"
#endif

namespace vlsm {

absl::StatusOr<TrainedTokenizer> TrainPromptTokenizer(const std::vector<std::string>& prompts,
                                                      int vocab_size,
                                                      const std::string& model_dir) {
  if (prompts.empty()) return absl::InvalidArgumentError("no prompts to train a tokenizer on");
#ifndef VLSM_HAVE_SENTENCEPIECE
  (void)vocab_size;
  (void)model_dir;
  return absl::UnimplementedError("training a tokenizer needs a build with SentencePiece");
#else
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(model_dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", model_dir, ": ", ec.message()));
  const std::string corpus = absl::StrCat(model_dir, "/.prompts_", ::getpid(), ".txt");
  {
    std::ofstream out(corpus);
    for (const std::string& p : prompts) out << p << "\n";
    if (!out.good()) return absl::InternalError(absl::StrCat("cannot write ", corpus));
  }
  spm::TrainOptions options;
  options.model_type = "unigram";
  options.vocab_size = vocab_size;
  options.extra = {{"pad_id", "0"},
                   {"unk_id", "1"},
                   {"bos_id", "2"},
                   {"eos_id", "3"},
                   {"hard_vocab_limit", "false"},
                   {"character_coverage", "1.0"},
                   {"num_threads", "1"},
                   {"seed_sentencepiece_size", "100000"}};
  const std::string model_path = model_dir + "/spiece.model";
  spm::SpmStatus trained = spm::TrainModel(corpus, model_path, options);
  fs::remove(corpus, ec);
  if (!trained.ok()) {
    return absl::InternalError(absl::StrCat("training the tokenizer failed: ", trained.message));
  }
  std::unique_ptr<spm::SpmModel> model;
  if (spm::SpmStatus s = spm::SpmModel::Open(model_path, &model); !s.ok()) {
    return absl::InternalError(absl::StrCat("reading the trained tokenizer: ", s.message));
  }
  TrainedTokenizer t;
  t.vocab_size = model->vocab_size();
  const spm::SpecialIds ids = model->special_ids();
  t.pad_id = ids.pad;
  t.bos_id = ids.bos;
  t.eos_id = ids.eos;
  return t;
#endif
}

}  // namespace vlsm
