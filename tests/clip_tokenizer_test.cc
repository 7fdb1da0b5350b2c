// The CLIP BPE tokenizer against HF CLIPTokenizer's output on the ftfy path
// (tests/data/clip-tokenizer: README.md, cases.jsonl), from both vocabulary
// sources, plus loading, limits, bad input, the word cache and threads.
#include "model/clip_tokenizer.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "model/tokenizer.h"
#include "nlohmann/json.hpp"

namespace vlsm {
namespace {

namespace fs = std::filesystem;

const fs::path kDataDir = fs::path(VLSM_TESTDATA) / "clip-tokenizer";
constexpr int64_t kBos = 49406, kEos = 49407;

struct Case {
  std::string id, text;
  std::vector<int64_t> input_ids, attention_mask;
  bool ftfy_sensitive = false;
};

const std::vector<Case>& Cases() {
  static const auto* cases = [] {
    auto* out = new std::vector<Case>();
    std::ifstream in(kDataDir / "cases.jsonl");
    for (std::string line; std::getline(in, line);) {
      const nlohmann::json row = nlohmann::json::parse(line);
      out->push_back({row["id"].get<std::string>(), row["text"].get<std::string>(),
                      row["input_ids"].get<std::vector<int64_t>>(),
                      row["attention_mask"].get<std::vector<int64_t>>(),
                      row["ftfy_sensitive"].get<bool>()});
    }
    return out;
  }();
  return *cases;
}

std::unique_ptr<ClipBpeTokenizer> FromHf(size_t cache = ClipBpeTokenizer::kDefaultCacheEntries) {
  auto t = ClipBpeTokenizer::FromHfFiles(
      (kDataDir / "vocab.json").string(), (kDataDir / "merges.txt").string(),
      (kDataDir / "tokenizer_config.json").string(),
      (kDataDir / "special_tokens_map.json").string(), 77, cache);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? std::move(*t) : nullptr;
}

std::unique_ptr<ClipBpeTokenizer> FromGz() {
  auto t = ClipBpeTokenizer::FromOpenAiGz((kDataDir / "bpe_simple_vocab_16e6.txt.gz").string(), 77);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? std::move(*t) : nullptr;
}

// One line per row whose ids or mask differ from the reference.
std::vector<std::string> Mismatches(const Tokenizer& tokenizer) {
  std::vector<std::string> bad;
  for (const Case& c : Cases()) {
    absl::StatusOr<TokenizedText> got = tokenizer.Encode(c.text);
    if (!got.ok()) {
      bad.push_back(absl::StrCat(c.id, ": ", got.status().ToString()));
    } else if (got->input_ids != c.input_ids || got->attention_mask != c.attention_mask) {
      bad.push_back(absl::StrCat(c.id, c.ftfy_sensitive ? " (ftfy)" : "", ": got [",
                                 absl::StrJoin(got->input_ids, " "), "] want [",
                                 absl::StrJoin(c.input_ids, " "), "]"));
    }
  }
  return bad;
}

TEST(ClipTokenizerTest, ReferenceFileHasAllRows) {
  ASSERT_EQ(Cases().size(), 132u);
  int ftfy = 0;
  for (const Case& c : Cases()) ftfy += c.ftfy_sensitive;
  EXPECT_EQ(ftfy, 9);
}

TEST(ClipTokenizerTest, EveryCaseMatchesFromHfFiles) {
  auto tokenizer = FromHf();
  ASSERT_NE(tokenizer, nullptr);
  const std::vector<std::string> bad = Mismatches(*tokenizer);
  std::cout << "HF files: " << Cases().size() - bad.size() << "/" << Cases().size()
            << " rows match\n";
  EXPECT_TRUE(bad.empty()) << absl::StrJoin(bad, "\n");
}

TEST(ClipTokenizerTest, EveryCaseMatchesFromOpenAiGz) {
  auto tokenizer = FromGz();
  ASSERT_NE(tokenizer, nullptr);
  const std::vector<std::string> bad = Mismatches(*tokenizer);
  std::cout << "openai .gz: " << Cases().size() - bad.size() << "/" << Cases().size()
            << " rows match\n";
  EXPECT_TRUE(bad.empty()) << absl::StrJoin(bad, "\n");
}

TEST(ClipTokenizerTest, BothSourcesGiveTheSameVocabulary) {
  auto hf = FromHf();
  auto gz = FromGz();
  ASSERT_NE(hf, nullptr);
  ASSERT_NE(gz, nullptr);
  ASSERT_EQ(hf->vocab_size(), 49408u);
  ASSERT_EQ(gz->vocab_size(), 49408u);
  for (int64_t id = 0; id < 49408; ++id) ASSERT_EQ(hf->IdToToken(id), gz->IdToToken(id)) << id;
  EXPECT_EQ(hf->IdToToken(0), "!");
  EXPECT_EQ(hf->IdToToken(320), "a</w>");
  EXPECT_EQ(hf->IdToToken(kBos), "<|startoftext|>");
}

TEST(ClipTokenizerTest, SpecialIdsAndHelloWorld) {
  auto tokenizer = FromHf();
  ASSERT_NE(tokenizer, nullptr);
  EXPECT_EQ(tokenizer->bos_id(), kBos);
  EXPECT_EQ(tokenizer->eos_id(), kEos);
  EXPECT_EQ(tokenizer->pad_id(), kEos);  // CLIPSeg pads with <|endoftext|>, not "!"
  EXPECT_EQ(tokenizer->max_length(), 77);
  absl::StatusOr<TokenizedText> got = tokenizer->Encode("Hello World!");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(std::vector<int64_t>(got->input_ids.begin(), got->input_ids.begin() + 6),
            (std::vector<int64_t>{kBos, 3306, 1002, 256, kEos, kEos}));
}

TEST(ClipTokenizerTest, EmptyAndBlankText) {
  auto tokenizer = FromHf();
  ASSERT_NE(tokenizer, nullptr);
  std::vector<int64_t> ids(77, kEos), mask(77, 0);
  ids[0] = kBos;
  mask[0] = mask[1] = 1;
  for (const char* text : {"", " \t\n ", "\x0b\x7f"}) {
    absl::StatusOr<TokenizedText> got = tokenizer->Encode(text);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->input_ids, ids);
    EXPECT_EQ(got->attention_mask, mask);
  }
}

TEST(ClipTokenizerTest, KeepsBosFirst75AndEos) {
  auto tokenizer = FromHf();
  ASSERT_NE(tokenizer, nullptr);
  std::string text;
  for (int i = 0; i < 200; ++i) absl::StrAppend(&text, i % 2 ? "mass " : "polyp ");
  absl::StatusOr<TokenizedText> got = tokenizer->Encode(text);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->input_ids.size(), 77u);
  EXPECT_EQ(got->attention_mask, std::vector<int64_t>(77, 1));
  EXPECT_EQ(got->input_ids.front(), kBos);
  EXPECT_EQ(got->input_ids.back(), kEos);
  // "polyp" is two tokens (poly, p</w>), "mass" one: the 75 content ids are
  // 25 x (6833 335 4854).
  for (int i = 0; i < 75; ++i) {
    EXPECT_EQ(got->input_ids[1 + i], (std::vector<int64_t>{6833, 335, 4854})[i % 3]) << i;
  }
}

TEST(ClipTokenizerTest, RejectsInvalidUtf8) {
  auto tokenizer = FromHf();
  ASSERT_NE(tokenizer, nullptr);
  for (const char* text : {
           "\x80",                      // lone continuation byte
           "polyp \xbf mass",           // continuation byte inside text
           "\xc0\xaf",                  // overlong '/'
           "\xe0\x80\xaf",              // overlong, 3 bytes
           "\xf0\x80\x80\xaf",          // overlong, 4 bytes
           "\xf0\x9f\x98",              // truncated 4-byte sequence
           "\xf0\x9f\x98 x",            // truncated, followed by text
           "\xed\xa0\x80",              // UTF-16 surrogate (U+D800) encoded
           "\xed\xa0\xbd\xed\xb8\x80",  // CESU-8 surrogate pair
           "\xf4\x90\x80\x80",          // above U+10FFFF
           "\xfe\xff",                  // never valid
       }) {
    absl::StatusOr<TokenizedText> got = tokenizer->Encode(text);
    ASSERT_FALSE(got.ok()) << absl::CEscape(text);
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(got.status().message(), "prompt is not valid UTF-8");
  }
  EXPECT_TRUE(tokenizer->Encode("\xf0\x9f\x99\x82 \xed\x9f\xbf \xf4\x8f\xbf\xbf").ok());
}

TEST(ClipTokenizerTest, RejectsPromptsOverTheLimit) {
  auto tokenizer = FromHf();
  ASSERT_NE(tokenizer, nullptr);
  EXPECT_TRUE(tokenizer->Encode(std::string(kMaxPromptBytes, 'a')).ok());
  absl::StatusOr<TokenizedText> got = tokenizer->Encode(std::string(kMaxPromptBytes + 1, 'a'));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ClipTokenizerTest, HeapBpeEqualsHfsPassByPassBpe) {
  auto tokenizer = FromHf();
  ASSERT_NE(tokenizer, nullptr);
  EXPECT_TRUE(tokenizer->uses_heap_bpe());  // CLIP's merges qualify
  std::vector<std::string> words;
  for (const Case& c : Cases()) {
    for (absl::string_view w : absl::StrSplit(c.text, ' ', absl::SkipEmpty()))
      words.emplace_back(w);
  }
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; ++i) {
    std::string w;
    const int length = 1 + static_cast<int>(rng() % 40);
    const int kind = i % 3;
    for (int k = 0; k < length; ++k) {
      if (kind == 0) w += static_cast<char>('a' + rng() % 26);  // letters
      if (kind == 1) w += "aeinorst"[rng() % 8];                // common letters
      if (kind == 2) w += static_cast<char>(rng() % 256);       // any bytes
    }
    words.push_back(w);
  }
  words.push_back(std::string(300, 'a'));
  words.push_back("abababababababababababababab");
  for (const std::string& w : words) {
    ASSERT_EQ(tokenizer->BpeForTesting(w, /*reference=*/false),
              tokenizer->BpeForTesting(w, /*reference=*/true))
        << absl::CEscape(w);
  }
}

TEST(ClipTokenizerTest, CacheGivesTheSameIdsColdAndWarm) {
  auto uncached = FromHf(/*cache=*/0);
  auto cached = FromHf();
  ASSERT_NE(uncached, nullptr);
  ASSERT_NE(cached, nullptr);
  for (int round = 0; round < 2; ++round) {
    for (const Case& c : Cases()) {
      absl::StatusOr<TokenizedText> want = uncached->Encode(c.text);
      absl::StatusOr<TokenizedText> got = cached->Encode(c.text);
      ASSERT_TRUE(want.ok() && got.ok()) << c.id;
      EXPECT_EQ(got->input_ids, want->input_ids) << c.id << " round " << round;
    }
  }
  EXPECT_EQ(uncached->cache_size(), 0u);
  EXPECT_GT(cached->cache_size(), 100u);
}

TEST(ClipTokenizerTest, CacheStaysBounded) {
  auto tokenizer = FromHf(/*cache=*/32);
  ASSERT_NE(tokenizer, nullptr);
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(tokenizer->Encode(absl::StrCat("lesion", i, "x", i * 7919, "y")).ok());
    ASSERT_LE(tokenizer->cache_size(), 32u);
  }
}

TEST(ClipTokenizerTest, ConcurrentEncodeMatchesTheReference) {
  auto tokenizer = FromHf(/*cache=*/64);  // small, so threads also race on evictions
  ASSERT_NE(tokenizer, nullptr);
  std::vector<std::vector<std::string>> errors(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round) {
        for (size_t i = 0; i < Cases().size(); ++i) {
          const Case& c = Cases()[(i + 37 * t) % Cases().size()];
          absl::StatusOr<TokenizedText> got = tokenizer->Encode(c.text);
          if (!got.ok() || got->input_ids != c.input_ids ||
              got->attention_mask != c.attention_mask) {
            errors[t].push_back(c.id);
          }
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_TRUE(errors[t].empty()) << absl::StrJoin(errors[t], " ");
}

// ------------------------------------------------------------ loading ----

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/vlsm_tokenizer_XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }
  void Link(const char* name) const { fs::create_symlink(kDataDir / name, path_ / name); }
  void Write(const char* name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
  }

 private:
  fs::path path_;
};

TEST(LoadTokenizerTest, ChoosesClipBpeFromHfFiles) {
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = LoadTokenizer(kDataDir.string(), 77);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_NE(dynamic_cast<ClipBpeTokenizer*>(t->get()), nullptr);
  EXPECT_EQ((*t)->max_length(), 77);
  EXPECT_EQ((*t)->pad_id(), kEos);
  EXPECT_EQ(Mismatches(**t), std::vector<std::string>{});
}

TEST(LoadTokenizerTest, FallsBackToOpenAiGz) {
  TempDir dir;
  dir.Link("bpe_simple_vocab_16e6.txt.gz");
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = LoadTokenizer(dir.path().string(), 77);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_NE(dynamic_cast<ClipBpeTokenizer*>(t->get()), nullptr);
  absl::StatusOr<TokenizedText> got = (*t)->Encode(Cases()[1].text);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->input_ids, Cases()[1].input_ids);
}

TEST(LoadTokenizerTest, ModelMaxLengthCapsTheCallersLength) {
  TempDir dir;
  dir.Link("vocab.json");
  dir.Link("merges.txt");
  dir.Write("tokenizer_config.json", R"({"model_max_length": 8, "pad_token": "!"})");
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = LoadTokenizer(dir.path().string(), 77);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)->max_length(), 8);
  EXPECT_EQ((*t)->pad_id(), 0);
  absl::StatusOr<TokenizedText> got = (*t)->Encode("a small polyp");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->input_ids, (std::vector<int64_t>{kBos, 320, 2442, 6833, 335, kEos, 0, 0}));
  EXPECT_EQ(got->attention_mask, (std::vector<int64_t>{1, 1, 1, 1, 1, 1, 0, 0}));
  // transformers' "no limit" sentinel does not cap.
  dir.Write("tokenizer_config.json", R"({"model_max_length": 1e30})");
  t = LoadTokenizer(dir.path().string(), 77);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)->max_length(), 77);
}

TEST(LoadTokenizerTest, MergeListsThatDoNotQualifyUseHfsLoop) {
  TempDir dir;
  dir.Link("vocab.json");
  dir.Write("merges.txt", "#version: 0.2\nab c</w>\na b\n");  // "ab" used before it exists
  auto t = ClipBpeTokenizer::FromHfFiles((dir.path() / "vocab.json").string(),
                                         (dir.path() / "merges.txt").string(), "", "", 77);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_FALSE((*t)->uses_heap_bpe());
  absl::StatusOr<TokenizedText> got = (*t)->Encode("abc");
  ASSERT_TRUE(got.ok());
  // a b c</w> -> ab c</w> (rank 1) -> abc</w> (rank 0)
  EXPECT_EQ((*t)->IdToToken(got->input_ids[1]), "abc</w>");
  EXPECT_EQ(got->input_ids[2], kEos);
}

TEST(LoadTokenizerTest, Errors) {
  TempDir dir;
  EXPECT_EQ(LoadTokenizer(dir.path().string(), 77).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(LoadTokenizer(kDataDir.string(), 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  dir.Link("vocab.json");
  dir.Write("merges.txt", "#version: 0.2\n");
  dir.Write("tokenizer_config.json", R"({"bos_token": "<|nope|>"})");
  EXPECT_EQ(LoadTokenizer(dir.path().string(), 77).status().code(),
            absl::StatusCode::kInvalidArgument);
  dir.Write("tokenizer_config.json", "{not json");
  EXPECT_EQ(LoadTokenizer(dir.path().string(), 77).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(LoadTokenizerTest, SentencePieceModelsGoToTheSentencePieceHook) {
  TempDir dir;
  dir.Write("spiece.model", "not a model");
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = LoadTokenizer(dir.path().string(), 77);
  // Unimplemented without SentencePiece support, a parse error with it; never
  // "no tokenizer here".
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().code(), absl::StatusCode::kNotFound) << t.status();
}

}  // namespace
}  // namespace vlsm
