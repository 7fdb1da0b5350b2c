#include "model/tokenizer.h"

#include <filesystem>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "model/clip_tokenizer.h"

// SentencePiece is optional: model/sentencepiece.cmake builds it and links it
// here (defining VLSM_HAVE_SENTENCEPIECE) where the static library exists.
#ifdef VLSM_HAVE_SENTENCEPIECE
#include "model/sentencepiece_tokenizer.h"
#endif

namespace vlsm {
namespace {

bool IsFile(const std::filesystem::path& path) {
  std::error_code error;
  return std::filesystem::is_regular_file(path, error);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizer(const std::string& model_dir,
                                                         int64_t max_length) {
  const std::filesystem::path dir(model_dir);
  auto optional = [&](const char* name) {
    return IsFile(dir / name) ? (dir / name).string() : std::string();
  };
  if (IsFile(dir / "vocab.json") && IsFile(dir / "merges.txt")) {
    auto tokenizer = ClipBpeTokenizer::FromHfFiles(
        (dir / "vocab.json").string(), (dir / "merges.txt").string(),
        optional("tokenizer_config.json"), optional("special_tokens_map.json"), max_length);
    if (!tokenizer.ok()) return tokenizer.status();
    return std::unique_ptr<Tokenizer>(std::move(*tokenizer));
  }
  if (IsFile(dir / "bpe_simple_vocab_16e6.txt.gz")) {
    auto tokenizer =
        ClipBpeTokenizer::FromOpenAiGz((dir / "bpe_simple_vocab_16e6.txt.gz").string(), max_length);
    if (!tokenizer.ok()) return tokenizer.status();
    return std::unique_ptr<Tokenizer>(std::move(*tokenizer));
  }
  if (IsFile(dir / "spiece.model") || IsFile(dir / "tokenizer.model")) {
    // --- SentencePiece hook (implemented in model/sentencepiece_tokenizer.*) ---
#ifdef VLSM_HAVE_SENTENCEPIECE
    return LoadSentencePieceTokenizer(model_dir, max_length);
#else
    return absl::UnimplementedError(absl::StrCat(
        model_dir, " has a SentencePiece model, and this build has no SentencePiece support"));
#endif
  }
  return absl::NotFoundError(absl::StrCat(
      "no tokenizer in ", model_dir,
      " (looked for vocab.json + merges.txt, bpe_simple_vocab_16e6.txt.gz, spiece.model, "
      "tokenizer.model)"));
}

}  // namespace vlsm
