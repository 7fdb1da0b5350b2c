// Bytes and text in, masks out: the model directory's engine, tokenizer and
// preprocessing bundled, so the CLI and the server produce identical masks.
//
// Ownership: owns the Engine and Tokenizer. Threading: every const method may
// be called from many threads at once (the parts are thread-safe).
// Errors: absl::Status; InvalidArgument for bad images or prompts.
#ifndef VLSM_MODEL_PIPELINE_H_
#define VLSM_MODEL_PIPELINE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/engine.h"
#include "model/image.h"
#include "model/preprocess.h"
#include "model/tokenizer.h"

namespace vlsm {

struct PreparedImage {
  DecodedImage decoded;      // original size and values (for the mask and overlay)
  HostTensor pixel_values;  // [3, S, S], the model input
};

enum class MaskResize {
  kBilinearLogits,  // logits resized bilinearly to H x W, then sigmoid > threshold (default)
  kNearestExact,    // threshold at S x S, then nearest-exact (vlsm-adapter's eval)
};

class Pipeline {
 public:
  // Loads an HF CLIPSeg directory: model, tokenizer files, preprocessor_config.json.
  static absl::StatusOr<std::unique_ptr<Pipeline>> Create(const std::string& model_dir,
                                                          const EngineOptions& options,
                                                          const DecodeLimits& limits = {});

  absl::StatusOr<PreparedImage> PrepareImage(absl::string_view bytes,
                                             absl::string_view format_hint,
                                             const std::optional<Window>& window,
                                             int64_t frame = 0) const;
  absl::StatusOr<PreparedImage> PrepareDecoded(DecodedImage decoded,
                                               const std::optional<Window>& window) const;
  absl::StatusOr<Prompt> EncodePrompt(absl::string_view text) const;

  // 0/1 mask at the original size (or the model's with model_size).
  std::vector<uint8_t> Mask(const HostTensor& logits, const DecodedImage& decoded,
                            float threshold, MaskResize resize, bool model_size = false) const;

  const Engine& engine() const { return *engine_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const PreprocessConfig& preprocess() const { return preprocess_; }
  const DecodeLimits& limits() const { return limits_; }

 private:
  Pipeline() = default;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Tokenizer> tokenizer_;
  PreprocessConfig preprocess_;
  DecodeLimits limits_;
};

}  // namespace vlsm

#endif  // VLSM_MODEL_PIPELINE_H_
