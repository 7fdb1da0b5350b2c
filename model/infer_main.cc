// vlsm-infer: run the model from the command line, without a server.
//
//   vlsm-infer segment --model DIR [--adapter FILE] --prompt TEXT [--prompt TEXT...]
//                      [--threshold T] --out DIR INPUTS...
//     one mask PNG + one overlay PNG per (input, prompt); inputs are files or
//     folders of PNG/JPEG/TIFF/BMP/WebP/DICOM.
//   vlsm-infer tokenize --model DIR    JSON lines {"text"} in, ids out
//   vlsm-infer decode FILE --model DIR --out OUT.safetensors
//   vlsm-infer tensors --model DIR [--adapter FILE] --cases IN.safetensors
//                      --out OUT.safetensors
//     reads pixel_values [B,3,S,S] F32, input_ids [B,L] I64/I32 and optionally
//     attention_mask [B,L], and writes logits [B,S,S] F32.
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "model/cli_inputs.h"
#include "model/default_model.h"
#include "model/engine.h"
#include "model/infer_commands.h"
#include "model/safetensors.h"

ABSL_FLAG(std::string, model, "",
          "HF CLIPSeg model directory (config.json + model.safetensors + tokenizer files); "
          "default: the embedded default model (model/default, or $VLSM_DEFAULT_MODEL)");
ABSL_FLAG(std::string, adapter, "", "VLSM-Adapter .safetensors applied to every row (optional)");
ABSL_FLAG(std::string, cases, "",
          "input safetensors with pixel_values, input_ids[, attention_mask]");
ABSL_FLAG(std::string, out, "", "segment: output folder; tensors/decode: output .safetensors file");
ABSL_FLAG(std::string, device, "cpu", "cpu, cuda or cuda:N");
ABSL_FLAG(std::string, dtype, "float32", "float32, bfloat16 or float16 (CUDA)");
ABSL_FLAG(int, threads, 0, "torch intra-op threads (0 = all cores)");
ABSL_FLAG(double, threshold, 0, "mask threshold on sigmoid(logits) (0 = adapter's, else 0.5)");
ABSL_FLAG(std::string, mask_resize, "bilinear",
          "bilinear: logits resized to the image, then thresholded; nearest: threshold at the "
          "model's size, then nearest-exact (vlsm-adapter's evaluation)");
ABSL_FLAG(int, frame, 0, "frame of a multi-frame DICOM");
ABSL_FLAG(double, window_center, 0, "display window center for 16-bit/DICOM input");
ABSL_FLAG(double, window_width, 0, "display window width (0 = the file's window, else min-max)");

namespace vlsm {
namespace {

absl::StatusOr<std::vector<int64_t>> ReadInts(const TensorView& t, int64_t row, int64_t len) {
  std::vector<int64_t> out(len);
  for (int64_t i = 0; i < len; ++i) {
    if (t.dtype == DType::kI64) {
      int64_t v;
      std::memcpy(&v, static_cast<const char*>(t.data) + 8 * (row * len + i), 8);
      out[i] = v;
    } else if (t.dtype == DType::kI32) {
      int32_t v;
      std::memcpy(&v, static_cast<const char*>(t.data) + 4 * (row * len + i), 4);
      out[i] = v;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(t.name, " must be I64 or I32"));
    }
  }
  return out;
}

}  // namespace

absl::Status RunTensors() {
  EngineOptions options;
  options.device = absl::GetFlag(FLAGS_device);
  options.dtype = absl::GetFlag(FLAGS_dtype);
  options.num_threads = absl::GetFlag(FLAGS_threads);
  if (absl::GetFlag(FLAGS_model).empty() || absl::GetFlag(FLAGS_cases).empty() ||
      absl::GetFlag(FLAGS_out).empty()) {
    return absl::InvalidArgumentError("--model, --cases and --out are required");
  }
  auto engine = Engine::Create(absl::GetFlag(FLAGS_model), options);
  if (!engine.ok()) return engine.status();
  std::shared_ptr<const Adapter> adapter;
  if (!absl::GetFlag(FLAGS_adapter).empty()) {
    auto a = (*engine)->LoadAdapter(absl::GetFlag(FLAGS_adapter));
    if (!a.ok()) return a.status();
    adapter = *a;
  }
  auto cases = SafetensorsFile::Open(absl::GetFlag(FLAGS_cases));
  if (!cases.ok()) return cases.status();
  const TensorView* pixels = (*cases)->Find("pixel_values");
  const TensorView* ids = (*cases)->Find("input_ids");
  const TensorView* mask = (*cases)->Find("attention_mask");
  if (pixels == nullptr || ids == nullptr) {
    return absl::InvalidArgumentError("cases need pixel_values and input_ids");
  }
  if (pixels->dtype != DType::kF32 || pixels->shape.size() != 4 || ids->shape.size() != 2 ||
      ids->shape[0] != pixels->shape[0] || (mask && mask->shape != ids->shape)) {
    return absl::InvalidArgumentError(
        "pixel_values must be F32 [B,3,S,S] and input_ids/attention_mask [B,L]");
  }
  const int64_t batch = pixels->shape[0], len = ids->shape[1];
  const int64_t per_image = pixels->shape[1] * pixels->shape[2] * pixels->shape[3];
  std::vector<HostTensor> images(batch);
  std::vector<SegmentQuery> queries(batch);
  for (int64_t b = 0; b < batch; ++b) {
    const float* src = static_cast<const float*>(pixels->data) + b * per_image;
    images[b].shape = {pixels->shape[1], pixels->shape[2], pixels->shape[3]};
    images[b].data.assign(src, src + per_image);
    queries[b].image = static_cast<size_t>(b);
    queries[b].adapter = adapter;
    auto row_ids = ReadInts(*ids, b, len);
    if (!row_ids.ok()) return row_ids.status();
    queries[b].prompt.input_ids = *row_ids;
    if (mask) {
      auto row_mask = ReadInts(*mask, b, len);
      if (!row_mask.ok()) return row_mask.status();
      queries[b].prompt.attention_mask = *row_mask;
    }
  }
  auto logits = (*engine)->Segment(images, queries);
  if (!logits.ok()) return logits.status();
  std::vector<float> all;
  for (const HostTensor& l : *logits) all.insert(all.end(), l.data.begin(), l.data.end());
  const auto& shape = logits->front().shape;
  TensorView out{
      "logits", DType::kF32, {batch, shape[0], shape[1]}, all.data(), all.size() * sizeof(float)};
  auto bytes = SerializeSafetensors({out}, {{"format", "pt"}});
  if (!bytes.ok()) return bytes.status();
  return WriteFileAtomically(absl::GetFlag(FLAGS_out), *bytes);
}

}  // namespace vlsm

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "\n  vlsm-infer segment --model DIR [--adapter FILE] --prompt TEXT [--prompt TEXT...] "
      "[--threshold T] --out DIR INPUTS...\n"
      "  vlsm-infer tokenize --model DIR < prompts.jsonl\n"
      "  vlsm-infer decode FILE --model DIR --out OUT.safetensors\n"
      "  vlsm-infer tensors --model DIR [--adapter FILE] --cases IN.safetensors --out "
      "OUT.safetensors");
  std::vector<std::string> prompts = vlsm::ExtractRepeatedFlag("prompt", &argc, argv);
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_model).empty()) {
    // Without --model every subcommand uses the embedded default model.
    if (auto dir = vlsm::DefaultModelDir(); dir.ok()) absl::SetFlag(&FLAGS_model, *dir);
  }
  const std::string command = args.size() > 1 ? args[1] : "";
  std::vector<std::string> rest(args.begin() + std::min<size_t>(2, args.size()), args.end());
  absl::Status status;
  if (command == "segment") {
    status = vlsm::RunSegment(prompts, rest);
  } else if (command == "tokenize" && rest.empty()) {
    status = vlsm::RunTokenize();
  } else if (command == "decode" && rest.size() == 1) {
    status = vlsm::RunDecode(rest[0]);
  } else if (command == "tensors" && rest.empty()) {
    status = vlsm::RunTensors();
  } else {
    std::cerr << "usage: " << absl::ProgramUsageMessage() << "\n";
    return 2;
  }
  if (!status.ok()) {
    std::cerr << "vlsm-infer: " << status << "\n";
    return 1;
  }
  return 0;
}
