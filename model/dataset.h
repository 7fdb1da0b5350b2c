// A segmentation dataset in the VLSM-Adapter / MedVLSM layout, read into
// memory as model inputs:
//   DIR/images/<img_name>, DIR/masks/<mask_name>,
//   DIR/anns/{train,val,test}.json: a JSON list of
//     {"img_name": str, "mask_name": str, "prompts": {"p0": str | [str...], ...}}.
// Images go through the serving preprocessing (model/preprocess.h: PIL
// bilinear resize + normalize to the model's S x S); masks are resized to
// S x S with torch's nearest-exact and binarized (any non-zero value is
// foreground; colour masks count a pixel as foreground when any channel is).
//
// Ownership: a SegDataset owns every decoded sample. Threading: immutable
// after Open; const methods may run on many threads.
// Errors (Open): NotFound for a missing annotation file, image or mask;
// InvalidArgument for malformed JSON, a missing or mistyped key, an entry
// without prompts, undecodable images, or a mask whose size differs from its
// image; each message names the file and the entry index.
#ifndef VLSM_MODEL_DATASET_H_
#define VLSM_MODEL_DATASET_H_

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/host_tensor.h"
#include "model/preprocess.h"

namespace vlsm {

struct SegSample {
  std::string image_name, mask_name;
  std::vector<std::string> prompts;  // every prompt of every key, in key order (p0, p1, ...)
  HostTensor pixels;                 // [3, S, S], normalized model input
  std::vector<float> mask;           // S x S, 0 or 1
};

class SegDataset {
 public:
  // Reads anns/<split>.json of `dir` and every image and mask it names.
  // `preprocess` must resize to a square (height == width == S).
  static absl::StatusOr<std::unique_ptr<SegDataset>> Open(const std::string& dir,
                                                          const std::string& split,
                                                          const PreprocessConfig& preprocess);

  size_t size() const { return samples_.size(); }
  int64_t image_size() const { return image_size_; }
  const SegSample& sample(size_t i) const { return samples_[i]; }

  // One of the sample's prompts, uniformly at random (training).
  const std::string& RandomPrompt(size_t i, std::mt19937_64& rng) const;
  // The sample's first prompt (evaluation: the same prompt every time).
  const std::string& EvalPrompt(size_t i) const { return samples_[i].prompts.front(); }
  // Distinct prompts over all samples, in first-appearance order.
  std::vector<std::string> AllPrompts() const;

 private:
  SegDataset() = default;
  std::vector<SegSample> samples_;
  int64_t image_size_ = 0;
};

}  // namespace vlsm

#endif  // VLSM_MODEL_DATASET_H_
