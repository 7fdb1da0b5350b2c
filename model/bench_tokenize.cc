// vlsm-tokenize-bench --model DIR [--prompts N] [--threads T] [--cases FILE]
//
// Measures prompt tokenization and prints one JSON line:
//   cold_prompts_per_second: every word goes through BPE (the word cache is
//     off), as for text never seen before;
//   warm_prompts_per_second: the same prompts once the word cache holds them.
// Prompts are the "text" fields of a JSONL file (default DIR/cases.jsonl, the
// medical prompts and edge cases of tests/data/clip-tokenizer), repeated up
// to N; without one, a few built-in medical prompts.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/declare.h"
#include "model/clip_tokenizer.h"
#include "model/tokenizer.h"
#include "nlohmann/json.hpp"

// Shared with `vlsm-bench engine` (bench_main.cc): --model, --prompts, --threads.
ABSL_DECLARE_FLAG(std::string, model);
ABSL_DECLARE_FLAG(int, prompts);
ABSL_DECLARE_FLAG(int, threads);
ABSL_FLAG(std::string, cases, "", "tokenize: JSONL file with \"text\" fields (default: MODEL/cases.jsonl)");
ABSL_FLAG(int, max_length, 77, "tokenize: text model max_position_embeddings");

namespace vlsm {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> ReadPrompts(const std::string& path) {
  std::vector<std::string> prompts;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    nlohmann::json row = nlohmann::json::parse(line, nullptr, false);
    if (row.is_object() && row.contains("text") && row["text"].is_string()) {
      prompts.push_back(row["text"].get<std::string>());
    }
  }
  if (!prompts.empty()) return prompts;
  return {"polyp",
          "a small round pink polyp at the bottom left",
          "pigmented skin lesion with irregular borders",
          "diabetic foot ulcer on the heel",
          "hypoechoic breast tumor with posterior shadowing",
          "left ventricle endocardium in the apical four-chamber view",
          "right-sided pleural effusion on a frontal chest radiograph"};
}

// The tokenizer of `dir` with the given word-cache size (CLIP BPE only;
// other kinds come from LoadTokenizer as they are).
absl::StatusOr<std::unique_ptr<Tokenizer>> Load(const fs::path& dir, int64_t max_length,
                                                size_t cache_entries) {
  auto opt = [&](const char* name) {
    return fs::exists(dir / name) ? (dir / name).string() : std::string();
  };
  absl::StatusOr<std::unique_ptr<ClipBpeTokenizer>> clip = absl::NotFoundError("");
  if (fs::exists(dir / "vocab.json") && fs::exists(dir / "merges.txt")) {
    clip = ClipBpeTokenizer::FromHfFiles(
        (dir / "vocab.json").string(), (dir / "merges.txt").string(), opt("tokenizer_config.json"),
        opt("special_tokens_map.json"), max_length, cache_entries);
  } else if (fs::exists(dir / "bpe_simple_vocab_16e6.txt.gz")) {
    clip = ClipBpeTokenizer::FromOpenAiGz((dir / "bpe_simple_vocab_16e6.txt.gz").string(),
                                          max_length, cache_entries);
  } else {
    return LoadTokenizer(dir.string(), max_length);
  }
  if (!clip.ok()) return clip.status();
  return std::unique_ptr<Tokenizer>(std::move(*clip));
}

// Encodes prompts[0..n) on `threads` threads; returns seconds. Keeps only a
// checksum per prompt, so that memory stays flat for large n.
double Run(const Tokenizer& tokenizer, const std::vector<std::string>& prompts, int n, int threads,
           std::vector<uint64_t>* checksums, int* errors) {
  checksums->assign(n, 0);
  std::vector<int> thread_errors(threads, 0);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = t; i < n; i += threads) {
        absl::StatusOr<TokenizedText> ids = tokenizer.Encode(prompts[i % prompts.size()]);
        if (!ids.ok()) {
          ++thread_errors[t];
          continue;
        }
        uint64_t sum = 1469598103934665603ull;  // FNV-1a over ids and mask
        for (const auto* v : {&ids->input_ids, &ids->attention_mask}) {
          for (int64_t x : *v) sum = (sum ^ static_cast<uint64_t>(x)) * 1099511628211ull;
        }
        (*checksums)[i] = sum;
      }
    });
  }
  for (std::thread& w : workers) w.join();
  *errors = 0;
  for (int e : thread_errors) *errors += e;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int RunTokenizeBench() {
  const fs::path dir = absl::GetFlag(FLAGS_model);
  const int n = absl::GetFlag(FLAGS_prompts) > 0 ? absl::GetFlag(FLAGS_prompts) : 20000;
  const int threads = std::max(1, absl::GetFlag(FLAGS_threads));
  if (dir.empty()) {
    std::cerr << "usage: vlsm-bench tokenize --model DIR [--prompts N] [--threads T]\n";
    return 2;
  }
  std::string cases = absl::GetFlag(FLAGS_cases);
  if (cases.empty()) cases = (dir / "cases.jsonl").string();
  const std::vector<std::string> prompts = ReadPrompts(cases);

  auto cold = Load(dir, absl::GetFlag(FLAGS_max_length), 0);
  auto warm = Load(dir, absl::GetFlag(FLAGS_max_length), ClipBpeTokenizer::kDefaultCacheEntries);
  if (!cold.ok() || !warm.ok()) {
    std::cerr << (cold.ok() ? warm.status() : cold.status()) << "\n";
    return 1;
  }
  std::vector<uint64_t> cold_ids, warm_ids;
  int cold_errors = 0, warm_errors = 0;
  const double cold_s = Run(**cold, prompts, n, threads, &cold_ids, &cold_errors);
  Run(**warm, prompts, static_cast<int>(prompts.size()), threads, &warm_ids, &warm_errors);
  const double warm_s = Run(**warm, prompts, n, threads, &warm_ids, &warm_errors);
  int mismatches = 0;
  for (int i = 0; i < n; ++i) {
    mismatches += cold_ids[i] != warm_ids[i];
  }
  nlohmann::json out = {
      {"model", dir.string()},
      {"distinct_prompts", prompts.size()},
      {"prompts", n},
      {"threads", threads},
      {"cold_prompts_per_second", n / cold_s},
      {"warm_prompts_per_second", n / warm_s},
      {"cold_us_per_prompt", 1e6 * cold_s / n},
      {"warm_us_per_prompt", 1e6 * warm_s / n},
      {"errors", cold_errors + warm_errors},
      {"cold_warm_mismatches", mismatches},
  };
  std::cout << out.dump() << std::endl;
  return mismatches == 0 ? 0 : 1;
}

}  // namespace vlsm
