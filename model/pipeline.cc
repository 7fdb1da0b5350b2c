#include "model/pipeline.h"

#include "absl/strings/str_cat.h"
#include "model/image_input.h"
#include "model/mask.h"

namespace vlsm {

absl::StatusOr<std::unique_ptr<Pipeline>> Pipeline::Create(const std::string& model_dir,
                                                           const EngineOptions& options,
                                                           const DecodeLimits& limits) {
  std::unique_ptr<Pipeline> p(new Pipeline());
  auto engine = Engine::Create(model_dir, options);
  if (!engine.ok()) return engine.status();
  p->engine_ = *std::move(engine);
  auto tokenizer =
      LoadTokenizer(model_dir, p->engine_->config().text.max_position_embeddings);
  if (!tokenizer.ok()) return tokenizer.status();
  p->tokenizer_ = *std::move(tokenizer);
  auto preprocess = LoadPreprocessConfig(model_dir);
  if (!preprocess.ok()) return preprocess.status();
  p->preprocess_ = *preprocess;
  p->limits_ = limits;
  const int64_t patch = p->engine_->config().vision.patch_size;
  if (p->preprocess_.height != p->preprocess_.width || p->preprocess_.height % patch != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "preprocessor_config.json: the model needs a square input that is a multiple of ", patch));
  }
  return p;
}

absl::StatusOr<PreparedImage> Pipeline::PrepareImage(absl::string_view bytes,
                                                     absl::string_view format_hint,
                                                     const std::optional<Window>& window,
                                                     int64_t frame) const {
  auto decoded = DecodeAnyImage(bytes, limits_, format_hint, frame);
  if (!decoded.ok()) return decoded.status();
  return PrepareDecoded(*std::move(decoded), window);
}

absl::StatusOr<PreparedImage> Pipeline::PrepareDecoded(DecodedImage decoded,
                                                       const std::optional<Window>& window) const {
  auto pixels = Preprocess(decoded, preprocess_, window);
  if (!pixels.ok()) return pixels.status();
  return PreparedImage{std::move(decoded), *std::move(pixels)};
}

absl::StatusOr<Prompt> Pipeline::EncodePrompt(absl::string_view text) const {
  auto encoded = tokenizer_->Encode(text);
  if (!encoded.ok()) return encoded.status();
  return Prompt{std::move(encoded->input_ids), std::move(encoded->attention_mask)};
}

std::vector<uint8_t> Pipeline::Mask(const HostTensor& logits, const DecodedImage& decoded,
                                    float threshold, MaskResize resize, bool model_size) const {
  if (model_size) return Threshold(logits, threshold);
  if (resize == MaskResize::kNearestExact) {
    return MaskFromLogits(logits, decoded.height, decoded.width, MaskOptions{threshold, true});
  }
  return Threshold(ResizeLogitsBilinear(logits, decoded.height, decoded.width), threshold);
}

}  // namespace vlsm
