#include "model/sentencepiece_tokenizer.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "model/spm_bridge.h"
#include "nlohmann/json.hpp"

namespace vlsm {
namespace {

namespace fs = std::filesystem;

absl::Status ToAbsl(const spm::SpmStatus& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.code), status.message);
}

// Strict UTF-8 (RFC 3629): no overlong forms, surrogates or values above
// U+10FFFF.
bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    int len;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3;
      if (b0 == 0xE0) lo = 0xA0;  // overlong
      if (b0 == 0xED) hi = 0x9F;  // surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4;
      if (b0 == 0xF0) lo = 0x90;  // overlong
      if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return false;
    }
    if (s.size() - i < static_cast<size_t>(len)) return false;
    const auto b1 = static_cast<unsigned char>(s[i + 1]);
    if (b1 < lo || b1 > hi) return false;
    for (int k = 2; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (b < 0x80 || b > 0xBF) return false;
    }
    i += len;
  }
  return true;
}

// Parses `dir/name` if it exists; nullopt when absent.
absl::StatusOr<std::optional<nlohmann::json>> ReadJsonIfPresent(const fs::path& dir,
                                                                const char* name) {
  const fs::path path = dir / name;
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::optional<nlohmann::json>();
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read ", path.string()));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), " is not a JSON object"));
  }
  return std::optional<nlohmann::json>(std::move(j));
}

// The token string `key` names in `config`: a string or {"content": string}.
// nullopt when the key is absent or null.
absl::StatusOr<std::optional<std::string>> NamedToken(const std::optional<nlohmann::json>& config,
                                                      const std::string& key, const char* file) {
  if (!config.has_value()) return std::optional<std::string>();
  auto it = config->find(key);
  if (it == config->end() || it->is_null()) return std::optional<std::string>();
  if (it->is_string()) return std::optional<std::string>(it->get<std::string>());
  if (it->is_object()) {
    auto content = it->find("content");
    if (content != it->end() && content->is_string()) {
      return std::optional<std::string>(content->get<std::string>());
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat(file, ": \"", key, "\" is neither a string nor {\"content\": string}"));
}

// Resolves one special token's id with the rule documented in the header;
// -1 when nothing names it.
absl::StatusOr<int> ResolveSpecialId(const spm::SpmModel& model, const std::string& kind,
                                     const std::optional<nlohmann::json>& special_tokens_map,
                                     const std::optional<nlohmann::json>& tokenizer_config,
                                     int model_id) {
  const std::string key = kind + "_token";
  const std::pair<const std::optional<nlohmann::json>*, const char*> sources[] = {
      {&special_tokens_map, "special_tokens_map.json"},
      {&tokenizer_config, "tokenizer_config.json"},
  };
  for (const auto& [config, file] : sources) {
    absl::StatusOr<std::optional<std::string>> token = NamedToken(*config, key, file);
    if (!token.ok()) return token.status();
    if (!token->has_value()) continue;
    const int id = model.PieceId(**token);
    if (id < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ": ", key, " \"", **token, "\" is not a piece of the model"));
    }
    return id;
  }
  return model_id;
}

class SentencePieceTokenizer : public Tokenizer {
 public:
  SentencePieceTokenizer(std::unique_ptr<spm::SpmModel> model, int64_t max_length, int64_t bos,
                         int64_t eos, int64_t pad)
      : model_(std::move(model)), max_length_(max_length), bos_(bos), eos_(eos), pad_(pad) {}

  absl::StatusOr<TokenizedText> Encode(absl::string_view utf8) const override {
    if (utf8.size() > kMaxPromptBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("prompt is ", utf8.size(), " bytes; the limit is ", kMaxPromptBytes));
    }
    if (!IsValidUtf8(utf8)) return absl::InvalidArgumentError("prompt is not valid UTF-8");
    std::vector<int> pieces;
    absl::Status status =
        ToAbsl(model_->Encode(std::string_view(utf8.data(), utf8.size()), &pieces));
    if (!status.ok()) return status;

    const size_t kept = std::min(pieces.size(), static_cast<size_t>(max_length_ - 2));
    TokenizedText out;
    out.input_ids.reserve(max_length_);
    out.input_ids.push_back(bos_);
    out.input_ids.insert(out.input_ids.end(), pieces.begin(), pieces.begin() + kept);
    out.input_ids.push_back(eos_);
    out.attention_mask.assign(out.input_ids.size(), 1);
    out.input_ids.resize(max_length_, pad_);
    out.attention_mask.resize(max_length_, 0);
    return out;
  }

  int64_t max_length() const override { return max_length_; }
  int64_t bos_id() const override { return bos_; }
  int64_t eos_id() const override { return eos_; }
  int64_t pad_id() const override { return pad_; }

 private:
  const std::unique_ptr<spm::SpmModel> model_;
  const int64_t max_length_;
  const int64_t bos_;
  const int64_t eos_;
  const int64_t pad_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadSentencePieceTokenizer(const std::string& model_dir,
                                                                      int64_t max_length) {
  const fs::path dir(model_dir);
  std::optional<fs::path> model_path;
  for (const char* name : {"spiece.model", "tokenizer.model"}) {
    std::error_code ec;
    if (fs::is_regular_file(dir / name, ec)) {
      model_path = dir / name;
      break;
    }
  }
  if (!model_path.has_value()) {
    return absl::NotFoundError(absl::StrCat("no spiece.model or tokenizer.model in ", model_dir));
  }
  std::unique_ptr<spm::SpmModel> model;
  absl::Status status = ToAbsl(spm::SpmModel::Open(model_path->string(), &model));
  if (!status.ok()) return status;

  absl::StatusOr<std::optional<nlohmann::json>> special_tokens_map =
      ReadJsonIfPresent(dir, "special_tokens_map.json");
  if (!special_tokens_map.ok()) return special_tokens_map.status();
  absl::StatusOr<std::optional<nlohmann::json>> tokenizer_config =
      ReadJsonIfPresent(dir, "tokenizer_config.json");
  if (!tokenizer_config.ok()) return tokenizer_config.status();

  if (tokenizer_config->has_value()) {
    const nlohmann::json& config = **tokenizer_config;
    auto limit = config.find("model_max_length");
    // transformers writes a huge sentinel (1e30) for "no limit".
    if (limit != config.end() && limit->is_number() && limit->get<double>() >= 1 &&
        limit->get<double>() < 1e9) {
      max_length = std::min<int64_t>(max_length, limit->get<int64_t>());
    }
  }
  if (max_length < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_length must be at least 2 (bos + eos), got ", max_length));
  }

  const spm::SpecialIds own = model->special_ids();
  absl::StatusOr<int> bos =
      ResolveSpecialId(*model, "bos", *special_tokens_map, *tokenizer_config, own.bos);
  if (!bos.ok()) return bos.status();
  absl::StatusOr<int> eos =
      ResolveSpecialId(*model, "eos", *special_tokens_map, *tokenizer_config, own.eos);
  if (!eos.ok()) return eos.status();
  absl::StatusOr<int> pad =
      ResolveSpecialId(*model, "pad", *special_tokens_map, *tokenizer_config, own.pad);
  if (!pad.ok()) return pad.status();
  if (*bos < 0 || *eos < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        model_dir, ": the model has no ", *bos < 0 ? "bos" : "eos",
        " token and neither special_tokens_map.json nor tokenizer_config.json names one"));
  }
  const int pad_id = *pad >= 0 ? *pad : *eos;
  return std::unique_ptr<Tokenizer>(
      new SentencePieceTokenizer(std::move(model), max_length, *bos, *eos, pad_id));
}

}  // namespace vlsm
