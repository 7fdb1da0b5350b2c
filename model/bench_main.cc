// vlsm-bench engine: throughput of the engine on the full-size
// CIDAS/clipseg-rd64-refined architecture with random weights (no download).
// One configuration per run; prints one JSON object.
#include <sys/resource.h>

#include <torch/torch.h>

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <chrono>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "model/blas_runtime.h"
#include "model/engine.h"
#include "model/safetensors.h"
#include "nlohmann/json.hpp"

ABSL_FLAG(std::string, model, "",
          "engine: load this model directory instead of random weights; tokenize: the "
          "directory with the tokenizer files");
ABSL_FLAG(int, batch, 1, "images per call (one prompt each, unless --prompts)");
ABSL_FLAG(int, prompts, 0,
          "engine: if > 0, one image x this many prompts per call; tokenize: prompts per "
          "measurement (default 20000)");
ABSL_FLAG(int, adapters, 0, "spread the rows over this many different adapters (0 = base)");
ABSL_FLAG(std::string, variant, "shallow_vlc", "adapter variant: shallow_v|vl|vlc, dense_v|vl|vlc");
ABSL_FLAG(int, adapter_dim, 0, "adapter width (0 = 512 shallow, 64 dense)");
ABSL_FLAG(int, repeats, 5, "timed calls (the median is reported)");
ABSL_FLAG(int, warmup, 1, "untimed calls first");
ABSL_FLAG(int, threads, 0, "torch intra-op threads (0 = all cores)");
ABSL_FLAG(std::string, device, "cpu", "cpu, cuda, cuda:N");
ABSL_FLAG(std::string, dtype, "float32", "float32, bfloat16, float16 (CUDA)");
ABSL_FLAG(int, size, 352, "input side in pixels (the CLIPSeg processor's 352)");
ABSL_FLAG(int, cond_cache, 4096, "conditional-embedding cache entries (0 = off)");
ABSL_FLAG(std::string, write_random_model, "",
          "write the full-size architecture with random weights to this directory and exit");
ABSL_FLAG(std::string, profile, "", "if set: write a torch profiler trace of one extra call here");

namespace vlsm {

int RunTokenizeBench();  // bench_tokenize.cc
int RunImageBench();     // bench_image.cc (built with the image I/O)
#ifdef VLSM_BENCH_SERVE
int RunServeBench();  // server/bench_serve.cc (built with the server)
#endif

namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

double CurrentRssMb() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024.0) / 1024.0;
}

double PeakRssMb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

// Random adapter file bytes with vlsm-adapter's names for `variant`.
std::string RandomAdapter(const ClipSegConfig& c, const std::string& variant, int64_t dim,
                          uint64_t seed) {
  const bool dense = variant.rfind("dense", 0) == 0;
  const bool text = variant.find("_vl") != std::string::npos;
  const bool cond = variant.find("vlc") != std::string::npos;
  std::vector<std::pair<std::string, int64_t>> mlps;  // prefix, width
  const int64_t n_extract = c.extract_layers.size(), deepest = c.vision_layers_needed() - 1;
  for (int64_t i = 0; i < (dense ? deepest : n_extract); ++i) {
    if (dense) {
      mlps.push_back({absl::StrCat("v_attn_adapters.", i), c.vision.hidden_size});
      mlps.push_back({absl::StrCat("v_out_adapters.", i), c.vision.hidden_size});
      if (text) mlps.push_back({absl::StrCat("l_attn_adapters.", i), c.text.hidden_size});
      if (text) mlps.push_back({absl::StrCat("l_out_adapters.", i), c.text.hidden_size});
    } else {
      mlps.push_back({absl::StrCat("vision_extract_adapters.", i), c.vision.hidden_size});
      if (text) mlps.push_back({absl::StrCat("text_extract_adapters.", i), c.text.hidden_size});
    }
  }
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.f, 0.02f);
  std::vector<std::vector<float>> storage;
  std::vector<TensorView> views;
  auto add = [&](const std::string& name, std::vector<int64_t> shape) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    storage.emplace_back(n);
    for (float& v : storage.back()) v = normal(rng);
    views.push_back({name, DType::kF32, shape, nullptr, static_cast<size_t>(n) * 4});
  };
  auto add_mlp = [&](const std::string& prefix, int64_t width, int64_t r) {
    add(prefix + ".fc1.weight", {r, width});
    add(prefix + ".fc1.bias", {r});
    add(prefix + ".fc2.weight", {width, r});
    add(prefix + ".fc2.bias", {width});
  };
  for (auto& [prefix, width] : mlps) add_mlp(prefix, width, dim);
  if (cond) add_mlp("cond_adapter", c.projection_dim, 256);
  for (size_t i = 0; i < views.size(); ++i) views[i].data = storage[i].data();
  return *SerializeSafetensors(views, {{"task", absl::StrCat("bench", seed)}});
}

// FLOPs of one image's vision backbone (the dominant cost).
double VisionFlops(const ClipSegConfig& c, int64_t size) {
  const double g = size / c.vision.patch_size, t = g * g + 1, d = c.vision.hidden_size,
               i = c.vision.intermediate_size, p = c.vision.patch_size;
  const double per_layer = 2 * t * d * (3 * d) + 2 * t * d * d + 2 * 2 * t * d * i + 2 * 2 * t * t * d;
  return 2 * (t - 1) * d * 3 * p * p + per_layer * c.vision_layers_needed();
}

// The oneDNN fp32 GEMM rate on the encoder's MLP shape [485x768]x[768x3072].
double OneDnnGemmGflops() {
  c10::InferenceMode guard;
  auto x = torch::randn({485, 768});
  auto w = torch::randn({3072, 768}).to_mkldnn();
  auto b = torch::randn({3072});
  for (int i = 0; i < 3; ++i) at::mkldnn_linear(x.to_mkldnn(), w, b).to_dense();
  const int reps = 20;
  auto t0 = Clock::now();
  for (int i = 0; i < reps; ++i) at::mkldnn_linear(x.to_mkldnn(), w, b).to_dense();
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  return 2.0 * 485 * 768 * 3072 * reps / s / 1e9;
}

int Run() {
  auto config = ClipSegConfig::Rd64Refined();
  if (!absl::GetFlag(FLAGS_write_random_model).empty()) {
    auto status = Engine::WriteRandomModel(config, 0, absl::GetFlag(FLAGS_write_random_model));
    if (!status.ok()) std::cerr << status << "\n";
    return status.ok() ? 0 : 1;
  }
  EngineOptions options;
  options.device = absl::GetFlag(FLAGS_device);
  options.dtype = absl::GetFlag(FLAGS_dtype);
  options.num_threads = absl::GetFlag(FLAGS_threads);
  options.condition_cache_entries = absl::GetFlag(FLAGS_cond_cache);
  const auto load_start = Clock::now();
  const std::string model_dir = absl::GetFlag(FLAGS_model);
  auto engine = model_dir.empty() ? Engine::CreateRandom(config, 0, options)
                                  : Engine::Create(model_dir, options);
  if (!engine.ok()) {
    std::cerr << engine.status() << "\n";
    return 1;
  }
  const double load_s = std::chrono::duration<double>(Clock::now() - load_start).count();
  const double rss_after_load = CurrentRssMb();
  config = (*engine)->config();

  const int size = absl::GetFlag(FLAGS_size), k = absl::GetFlag(FLAGS_prompts);
  const int n_images = k > 0 ? 1 : absl::GetFlag(FLAGS_batch);
  const int rows = k > 0 ? k : n_images;
  const std::string variant = absl::GetFlag(FLAGS_variant);
  int64_t dim = absl::GetFlag(FLAGS_adapter_dim);
  if (dim == 0) dim = variant.rfind("dense", 0) == 0 ? 64 : 512;
  std::vector<std::shared_ptr<const Adapter>> adapters;
  for (int a = 0; a < absl::GetFlag(FLAGS_adapters); ++a) {
    auto parsed = (*engine)->ParseAdapter(RandomAdapter(config, variant, dim, a + 1));
    if (!parsed.ok()) {
      std::cerr << parsed.status() << "\n";
      return 1;
    }
    adapters.push_back(*parsed);
  }
  torch::manual_seed(1);
  std::vector<HostTensor> images(n_images);
  for (auto& img : images) {
    img.shape = {3, size, size};
    auto t = torch::randn({3, size, size});
    img.data.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
  }
  std::vector<SegmentQuery> queries(rows);
  for (int r = 0; r < rows; ++r) {
    queries[r].image = k > 0 ? 0 : r;
    queries[r].prompt.input_ids = {49406, 320 + r, 2522, 6833 + r, 49407};
    if (!adapters.empty()) queries[r].adapter = adapters[r % adapters.size()];
  }
  for (int w = 0; w < absl::GetFlag(FLAGS_warmup); ++w) (void)(*engine)->Segment(images, queries);
  std::vector<double> call_ms;
  std::vector<SegmentStats> stats;
  for (int r = 0; r < absl::GetFlag(FLAGS_repeats); ++r) {
    SegmentStats s;
    const auto t0 = Clock::now();
    auto out = (*engine)->Segment(images, queries, &s);
    call_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (!out.ok()) {
      std::cerr << out.status() << "\n";
      return 1;
    }
    stats.push_back(s);
  }
  std::vector<size_t> order(call_ms.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return call_ms[a] < call_ms[b]; });
  const size_t mid = order[order.size() / 2];
  const double ms = call_ms[mid];
  if (!absl::GetFlag(FLAGS_profile).empty()) {
    torch::autograd::profiler::RecordProfile guard(absl::GetFlag(FLAGS_profile));
    (void)(*engine)->Segment(images, queries);
  }
  const double gemm = options.device == "cpu" ? OneDnnGemmGflops() : 0.0;
  const double flops = VisionFlops(config, size) * stats[mid].vision_rows;
  json out = {
      {"bench", "engine"},
      {"device", options.device},
      {"dtype", options.dtype},
      {"threads", (*engine)->options().num_threads},
      {"blas_core", DescribeBlas().core},
      {"input_size", size},
      {"batch_images", n_images},
      {"rows", rows},
      {"adapters", adapters.size()},
      {"variant", adapters.empty() ? "base" : variant},
      {"adapter_dim", adapters.empty() ? 0 : dim},
      {"repeats", call_ms.size()},
      {"ms_per_call", ms},
      {"ms_per_image", ms / n_images},
      {"ms_per_row", ms / rows},
      {"images_per_second", 1000.0 * n_images / ms},
      {"rows_per_second", 1000.0 * rows / ms},
      {"stages_ms",
       {{"vision", stats[mid].vision_ms},
        {"text", stats[mid].text_ms},
        {"decoder", stats[mid].decoder_ms}}},
      {"vision_rows", stats[mid].vision_rows},
      {"vision_gflops_effective", flops / (stats[mid].vision_ms / 1000.0) / 1e9},
      {"forward_gflops_effective", flops / (ms / 1000.0) / 1e9},
      {"onednn_fp32_gemm_gflops", gemm},
      {"forward_vs_gemm", gemm > 0 ? flops / (ms / 1000.0) / 1e9 / gemm : 0.0},
      {"load_seconds", load_s},
      {"model", model_dir.empty() ? "random in memory" : model_dir},
      {"rss_mb_after_load", rss_after_load},
      {"peak_rss_mb", PeakRssMb()},
      {"all_call_ms", call_ms},
  };
  std::cout << out.dump() << std::endl;
  return 0;
}

}  // namespace
}  // namespace vlsm

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "\n  vlsm-bench engine [--batch B | --prompts K] [--adapters N --variant V] [--repeats R] "
      "[--threads T] [--device D] [--dtype T] [--model DIR]\n"
#ifdef VLSM_BENCH_TOKENIZE
      "  vlsm-bench tokenize --model DIR [--prompts N] [--threads T]\n"
#endif
#ifdef VLSM_BENCH_IMAGE
      "  vlsm-bench image --image FILE [--model DIR | --size S] [--repeats R]\n"
#endif
#ifdef VLSM_BENCH_SERVE
      "  vlsm-bench serve (--model DIR | --target HOST:PORT) [--clients N] [--duration_s S | "
      "--requests N] [--tasks base,bench@stable] [--adapter_file F --admin_ops N] "
      "[--max_batch_size B]"
#endif
  );
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  const std::string command = args.size() == 2 ? args[1] : "";
  if (command == "engine") return vlsm::Run();
#ifdef VLSM_BENCH_TOKENIZE
  if (command == "tokenize") return vlsm::RunTokenizeBench();
#endif
#ifdef VLSM_BENCH_IMAGE
  if (command == "image") return vlsm::RunImageBench();
#endif
#ifdef VLSM_BENCH_SERVE
  if (command == "serve") return vlsm::RunServeBench();
#endif
  std::cerr << "usage: " << absl::ProgramUsageMessage() << "\n";
  return 2;
}
