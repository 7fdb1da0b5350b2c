// Reading the clipseg-tiny reference vectors (tests/data/clipseg-tiny).
#ifndef VLSM_TESTS_SUPPORT_CASES_H_
#define VLSM_TESTS_SUPPORT_CASES_H_

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "model/engine.h"
#include "model/host_tensor.h"
#include "model/safetensors.h"
#include "tests/support/files.h"

namespace vlsm::test_support {

inline std::string TestData(const std::string& relative) {
  return std::string(VLSM_TESTDATA) + "/" + relative;
}
inline std::string TinyModelDir() { return TestData("clipseg-tiny"); }

// A scratch path unique to this process: ctest runs test cases of one binary
// as parallel processes, and rewriting a file another process has mapped
// would crash it (SIGBUS).
inline std::string UniqueTempPath(const std::string& name) {
  return ::testing::TempDir() + "/" + name + "_" + std::to_string(::getpid());
}

// A per-process copy of clipseg-tiny's weights plus the CLIP tokenizer files:
// a complete HF model directory (weights, tokenizer, preprocessor config).
inline std::string TinyModelWithTokenizer(const std::string& name) {
  namespace fs = std::filesystem;
  const std::string dir = UniqueTempPath(name);
  fs::create_directories(dir);
  for (const char* f : {"config.json", "model.safetensors", "preprocessor_config.json"}) {
    fs::copy_file(TestData(std::string("clipseg-tiny/") + f), dir + "/" + f,
                  fs::copy_options::overwrite_existing);
  }
  for (const char* f :
       {"vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"}) {
    fs::copy_file(TestData(std::string("clip-tokenizer/") + f), dir + "/" + f,
                  fs::copy_options::overwrite_existing);
  }
  return dir;
}

// A float32 tensor of the file as a HostTensor (empty shape if absent).
inline HostTensor ReadFloat(const SafetensorsFile& file, const std::string& name) {
  HostTensor out;
  const TensorView* v = file.Find(name);
  if (v == nullptr || v->dtype != DType::kF32) return out;
  out.shape = v->shape;
  out.data.resize(v->numel());
  std::memcpy(out.data.data(), v->data, v->nbytes);
  return out;
}

// The three reference rows: images [3,96,96] and prompts (ids + mask).
struct TinyCases {
  std::unique_ptr<SafetensorsFile> file;
  std::vector<HostTensor> images;
  std::vector<Prompt> prompts;
};

inline TinyCases LoadTinyCases() {
  TinyCases c;
  c.file = *SafetensorsFile::Open(TestData("clipseg-tiny/cases.safetensors"));
  HostTensor pixels = ReadFloat(*c.file, "pixel_values");
  const int64_t per = pixels.numel() / pixels.shape[0];
  const TensorView* ids = c.file->Find("input_ids");
  const TensorView* mask = c.file->Find("attention_mask");
  const int64_t len = ids->shape[1];
  for (int64_t b = 0; b < pixels.shape[0]; ++b) {
    HostTensor img;
    img.shape = {pixels.shape[1], pixels.shape[2], pixels.shape[3]};
    img.data.assign(pixels.data.begin() + b * per, pixels.data.begin() + (b + 1) * per);
    c.images.push_back(std::move(img));
    Prompt p;
    const auto* id_data = static_cast<const int64_t*>(ids->data) + b * len;
    const auto* mask_data = static_cast<const int64_t*>(mask->data) + b * len;
    p.input_ids.assign(id_data, id_data + len);
    p.attention_mask.assign(mask_data, mask_data + len);
    c.prompts.push_back(std::move(p));
  }
  return c;
}

struct Diff {
  double max_abs = 0, mean_abs = 0, max_ref = 0;
};

// Compares `got` against `ref`; when `got` is shorter along dim 1 (a text
// sequence cut at EOS), compares the leading positions only.
inline Diff Compare(const HostTensor& got, const HostTensor& ref) {
  Diff d;
  if (got.shape.size() != ref.shape.size() || got.shape.empty()) {
    d.max_abs = 1e30;
    return d;
  }
  std::vector<int64_t> common = ref.shape;
  for (size_t i = 0; i < common.size(); ++i) common[i] = std::min(got.shape[i], ref.shape[i]);
  // Iterate over the common box.
  const size_t rank = common.size();
  std::vector<int64_t> idx(rank, 0);
  int64_t count = 0;
  double sum = 0;
  auto offset = [&](const std::vector<int64_t>& shape) {
    int64_t o = 0;
    for (size_t i = 0; i < rank; ++i) o = o * shape[i] + idx[i];
    return o;
  };
  int64_t total = 1;
  for (int64_t c : common) total *= c;
  for (int64_t n = 0; n < total; ++n) {
    int64_t rem = n;
    for (size_t i = rank; i-- > 0;) {
      idx[i] = rem % common[i];
      rem /= common[i];
    }
    const double g = got.data[offset(got.shape)], r = ref.data[offset(ref.shape)];
    const double a = std::abs(g - r);
    d.max_abs = std::max(d.max_abs, std::isnan(a) ? 1e30 : a);
    d.max_ref = std::max(d.max_ref, std::abs(r));
    sum += a;
    ++count;
  }
  d.mean_abs = count ? sum / count : 0;
  for (size_t i = 0; i < rank; ++i) {
    if (i != 1 && got.shape[i] != ref.shape[i]) d.max_abs = 1e30;  // only dim 1 may be cut
  }
  return d;
}

// Stacks per-query [S,S] logits into [N,S,S].
inline HostTensor Stack(const std::vector<HostTensor>& rows) {
  HostTensor out;
  out.shape = rows.front().shape;
  out.shape.insert(out.shape.begin(), static_cast<int64_t>(rows.size()));
  for (const auto& r : rows) out.data.insert(out.data.end(), r.data.begin(), r.data.end());
  return out;
}

}  // namespace vlsm::test_support

#endif  // VLSM_TESTS_SUPPORT_CASES_H_
