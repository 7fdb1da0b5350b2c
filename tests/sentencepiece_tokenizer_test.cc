// SentencePiece tokenizer: models are trained here from a generated corpus of
// segmentation prompts, then loaded through LoadSentencePieceTokenizer.
#include "model/sentencepiece_tokenizer.h"

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/spm_bridge.h"
#include "tests/support/files.h"

namespace vlsm {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAreArray;

constexpr int64_t kMaxLength = 77;

void WriteFile(const fs::path& path, const std::string& text) {
  ASSERT_TRUE(test_support::WriteFileBytes(path.string(), text)) << path;
}

// Every combination of a few prompt parts: about 900 distinct lines.
std::string PromptCorpus() {
  const char* sizes[] = {"", "small ", "large ", "tiny "};
  const char* colors[] = {"red", "blue", "green", "yellow", "dark", "bright"};
  const char* shapes[] = {"circle", "square", "triangle", "polyp", "lesion", "nodule"};
  const char* places[] = {"",
                          " at the top left",
                          " at the bottom right",
                          " in the center",
                          " near the edge",
                          " on the left side"};
  std::string corpus;
  for (const char* size : sizes) {
    for (const char* color : colors) {
      for (const char* shape : shapes) {
        for (const char* place : places) {
          corpus += std::string("the ") + size + color + " " + shape + place + "\n";
        }
      }
    }
  }
  return corpus;
}

class SentencePieceTokenizerTest : public ::testing::Test {
 protected:
  // Trains two models once: a unigram one with pad_id 3 and CLIP-like
  // user-defined specials, and a BPE one with SentencePiece's default ids
  // (unk 0, bos 1, eos 2, no pad).
  static void SetUpTestSuite() {
    std::string tmpl = ::testing::TempDir() + "spm_tokenizer_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = new fs::path(tmpl);
    const fs::path corpus = *root_ / "corpus.txt";
    WriteFile(corpus, PromptCorpus());

    spm::TrainOptions unigram;
    unigram.model_type = "unigram";
    unigram.vocab_size = 60;
    unigram.extra = {{"pad_id", "3"},
                     {"user_defined_symbols", "<|startoftext|>,<|endoftext|>"},
                     {"hard_vocab_limit", "false"}};
    spm::SpmStatus status =
        spm::TrainModel(corpus.string(), (*root_ / "unigram.model").string(), unigram);
    ASSERT_TRUE(status.ok()) << status.message;

    spm::TrainOptions bpe;
    bpe.model_type = "bpe";
    bpe.vocab_size = 80;
    status = spm::TrainModel(corpus.string(), (*root_ / "bpe.model").string(), bpe);
    ASSERT_TRUE(status.ok()) << status.message;
  }

  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*root_, ec);
    delete root_;
    root_ = nullptr;
  }

  // A fresh model directory holding a copy of `model` as `model_file_name`.
  fs::path ModelDir(const std::string& model, const std::string& model_file_name = "spiece.model") {
    const fs::path dir = *root_ / (::testing::UnitTest::GetInstance()->current_test_info()->name() +
                                   std::string("_") + std::to_string(dir_count_++));
    fs::create_directories(dir);
    fs::copy_file(*root_ / model, dir / model_file_name);
    return dir;
  }

  static std::vector<int64_t> Pieces(const std::string& model, const std::string& text) {
    std::unique_ptr<spm::SpmModel> m;
    spm::SpmStatus status = spm::SpmModel::Open((*root_ / model).string(), &m);
    EXPECT_TRUE(status.ok()) << status.message;
    std::vector<int> ids;
    if (m == nullptr || !m->Encode(text, &ids).ok()) return {};
    return std::vector<int64_t>(ids.begin(), ids.end());
  }

  static int PieceId(const std::string& model, const std::string& piece) {
    std::unique_ptr<spm::SpmModel> m;
    if (!spm::SpmModel::Open((*root_ / model).string(), &m).ok()) return -2;
    return m->PieceId(piece);
  }

  static fs::path* root_;
  int dir_count_ = 0;
};

fs::path* SentencePieceTokenizerTest::root_ = nullptr;

TEST_F(SentencePieceTokenizerTest, WrapsPiecesInBosEosAndPadsToMaxLength) {
  const fs::path dir = ModelDir("unigram.model");
  WriteFile(dir / "tokenizer_config.json",
            R"({"bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>",
                "model_max_length": 77})");
  auto tokenizer = LoadSentencePieceTokenizer(dir.string(), kMaxLength);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  EXPECT_EQ((*tokenizer)->bos_id(), 1);
  EXPECT_EQ((*tokenizer)->eos_id(), 2);
  EXPECT_EQ((*tokenizer)->pad_id(), 3);
  EXPECT_EQ((*tokenizer)->max_length(), kMaxLength);

  const std::string text = "small blue square at the top left";
  const std::vector<int64_t> pieces = Pieces("unigram.model", text);
  ASSERT_GE(pieces.size(), 5u);
  std::vector<int64_t> want_ids = {1};
  want_ids.insert(want_ids.end(), pieces.begin(), pieces.end());
  want_ids.push_back(2);
  std::vector<int64_t> want_mask(want_ids.size(), 1);
  want_ids.resize(kMaxLength, 3);
  want_mask.resize(kMaxLength, 0);

  auto encoded = (*tokenizer)->Encode(text);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_THAT(encoded->input_ids, ElementsAreArray(want_ids));
  EXPECT_THAT(encoded->attention_mask, ElementsAreArray(want_mask));
}

TEST_F(SentencePieceTokenizerTest, TruncatesToMaxLengthKeepingEos) {
  const fs::path dir = ModelDir("unigram.model");
  auto tokenizer = LoadSentencePieceTokenizer(dir.string(), kMaxLength);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  std::string text;
  for (int i = 0; i < 40; ++i) text += "the large green triangle near the edge ";
  const std::vector<int64_t> pieces = Pieces("unigram.model", text);
  ASSERT_GT(pieces.size(), static_cast<size_t>(kMaxLength));

  auto encoded = (*tokenizer)->Encode(text);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  std::vector<int64_t> want = {1};
  want.insert(want.end(), pieces.begin(), pieces.begin() + (kMaxLength - 2));
  want.push_back(2);
  EXPECT_THAT(encoded->input_ids, ElementsAreArray(want));
  EXPECT_THAT(encoded->attention_mask, ElementsAreArray(std::vector<int64_t>(kMaxLength, 1)));
}

TEST_F(SentencePieceTokenizerTest, EmptyTextIsBosEosThenPadding) {
  const fs::path dir = ModelDir("unigram.model");
  auto tokenizer = LoadSentencePieceTokenizer(dir.string(), 8);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  auto encoded = (*tokenizer)->Encode("");
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_THAT(encoded->input_ids, ElementsAreArray({1, 2, 3, 3, 3, 3, 3, 3}));
  EXPECT_THAT(encoded->attention_mask, ElementsAreArray({1, 1, 0, 0, 0, 0, 0, 0}));
}

TEST_F(SentencePieceTokenizerTest, MaxLengthTwoKeepsOnlyBosEos) {
  const fs::path dir = ModelDir("unigram.model");
  auto tokenizer = LoadSentencePieceTokenizer(dir.string(), 2);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  auto encoded = (*tokenizer)->Encode("the red circle");
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_THAT(encoded->input_ids, ElementsAreArray({1, 2}));
  EXPECT_THAT(encoded->attention_mask, ElementsAreArray({1, 1}));
}

TEST_F(SentencePieceTokenizerTest, RejectsInvalidUtf8) {
  const fs::path dir = ModelDir("unigram.model");
  auto tokenizer = LoadSentencePieceTokenizer(dir.string(), kMaxLength);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  const std::string bad[] = {
      "\xff",              // never valid
      "red \x80 circle",   // lone continuation byte
      "\xc0\xaf",          // overlong '/'
      "\xe0\x80\xaf",      // overlong, 3 bytes
      "\xed\xa0\x80",      // UTF-16 surrogate
      "\xf4\x90\x80\x80",  // above U+10FFFF
      "the red \xe2\x82",  // truncated sequence at the end
      "\xe2\x28\xa1",      // bad continuation
  };
  for (const std::string& text : bad) {
    auto encoded = (*tokenizer)->Encode(text);
    EXPECT_EQ(encoded.status().code(), absl::StatusCode::kInvalidArgument)
        << ::testing::PrintToString(text);
  }
  // Multi-byte text that is valid goes through (unknown pieces map to unk).
  const std::string valid =
      "gr\xc3\xb6\xc3\x9f"
      "e \xe2\x9c\x93 \xf0\x9f\x99\x82";  // größe ✓ 🙂
  auto encoded = (*tokenizer)->Encode(valid);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(encoded->input_ids.front(), 1);
}

TEST_F(SentencePieceTokenizerTest, RejectsPromptsOverTheByteLimit) {
  const fs::path dir = ModelDir("unigram.model");
  auto tokenizer = LoadSentencePieceTokenizer(dir.string(), kMaxLength);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  EXPECT_TRUE((*tokenizer)->Encode(std::string(kMaxPromptBytes, 'a')).ok());
  EXPECT_EQ((*tokenizer)->Encode(std::string(kMaxPromptBytes + 1, 'a')).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SentencePieceTokenizerTest, ModelMaxLengthCapsMaxLength) {
  const fs::path dir = ModelDir("unigram.model");
  WriteFile(dir / "tokenizer_config.json", R"({"model_max_length": 16})");
  auto capped = LoadSentencePieceTokenizer(dir.string(), kMaxLength);
  ASSERT_TRUE(capped.ok()) << capped.status();
  EXPECT_EQ((*capped)->max_length(), 16);
  auto encoded = (*capped)->Encode("the red circle");
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(encoded->input_ids.size(), 16u);
  EXPECT_EQ(encoded->attention_mask.size(), 16u);

  // transformers' "no limit" sentinel leaves max_length alone.
  WriteFile(dir / "tokenizer_config.json", R"({"model_max_length": 1e30})");
  auto uncapped = LoadSentencePieceTokenizer(dir.string(), kMaxLength);
  ASSERT_TRUE(uncapped.ok()) << uncapped.status();
  EXPECT_EQ((*uncapped)->max_length(), kMaxLength);
}

TEST_F(SentencePieceTokenizerTest, SpecialTokensMapWinsOverTokenizerConfig) {
  const fs::path dir = ModelDir("unigram.model");
  WriteFile(dir / "tokenizer_config.json",
            R"({"bos_token": "<s>", "eos_token": "</s>", "pad_token": null})");
  WriteFile(dir / "special_tokens_map.json",
            R"({"bos_token": {"content": "<|startoftext|>", "lstrip": false},
                "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>"})");
  const int sot = PieceId("unigram.model", "<|startoftext|>");
  const int eot = PieceId("unigram.model", "<|endoftext|>");
  ASSERT_GE(sot, 0);
  ASSERT_GE(eot, 0);
  auto tokenizer = LoadSentencePieceTokenizer(dir.string(), 6);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  EXPECT_EQ((*tokenizer)->bos_id(), sot);
  EXPECT_EQ((*tokenizer)->eos_id(), eot);
  EXPECT_EQ((*tokenizer)->pad_id(), eot);
  auto encoded = (*tokenizer)->Encode("");
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_THAT(encoded->input_ids, ElementsAreArray({sot, eot, eot, eot, eot, eot}));
  EXPECT_THAT(encoded->attention_mask, ElementsAreArray({1, 1, 0, 0, 0, 0}));
}

TEST_F(SentencePieceTokenizerTest, BpeModelWithoutPadPadsWithEos) {
  // No config; tokenizer.model is the second file name looked for.
  const fs::path dir = ModelDir("bpe.model", "tokenizer.model");
  auto tokenizer = LoadSentencePieceTokenizer(dir.string(), 10);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  EXPECT_EQ((*tokenizer)->bos_id(), 1);
  EXPECT_EQ((*tokenizer)->eos_id(), 2);
  EXPECT_EQ((*tokenizer)->pad_id(), 2);
  const std::vector<int64_t> pieces = Pieces("bpe.model", "the red circle");
  ASSERT_FALSE(pieces.empty());
  ASSERT_LE(pieces.size(), 8u);
  auto encoded = (*tokenizer)->Encode("the red circle");
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  std::vector<int64_t> want = {1};
  want.insert(want.end(), pieces.begin(), pieces.end());
  want.push_back(2);
  want.resize(10, 2);
  EXPECT_THAT(encoded->input_ids, ElementsAreArray(want));
  EXPECT_EQ(encoded->attention_mask[pieces.size() + 1], 1);
  if (pieces.size() + 2 < 10) EXPECT_EQ(encoded->attention_mask[pieces.size() + 2], 0);
}

TEST_F(SentencePieceTokenizerTest, EncodesConcurrently) {
  const fs::path dir = ModelDir("unigram.model");
  auto tokenizer = LoadSentencePieceTokenizer(dir.string(), kMaxLength);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  const std::string texts[] = {"the red circle", "small blue square at the top left",
                               "the tiny dark polyp in the center", ""};
  std::vector<std::vector<int64_t>> want;
  for (const std::string& text : texts) want.push_back((*tokenizer)->Encode(text)->input_ids);

  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const int k = (t + i) % 4;
        auto got = (*tokenizer)->Encode(texts[k]);
        if (!got.ok() || got->input_ids != want[k]) ++mismatches[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(mismatches, ElementsAreArray({0, 0, 0, 0}));
}

TEST_F(SentencePieceTokenizerTest, LoadErrors) {
  const fs::path empty = *root_ / "no_model";
  fs::create_directories(empty);
  EXPECT_EQ(LoadSentencePieceTokenizer(empty.string(), kMaxLength).status().code(),
            absl::StatusCode::kNotFound);

  const fs::path dir = ModelDir("unigram.model");
  EXPECT_EQ(LoadSentencePieceTokenizer(dir.string(), 1).status().code(),
            absl::StatusCode::kInvalidArgument);

  WriteFile(dir / "tokenizer_config.json", R"({"eos_token": "<nope>"})");
  auto unknown = LoadSentencePieceTokenizer(dir.string(), kMaxLength);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(unknown.status().message()), ::testing::HasSubstr("<nope>"));

  WriteFile(dir / "tokenizer_config.json", R"({"eos_token": 7})");
  EXPECT_EQ(LoadSentencePieceTokenizer(dir.string(), kMaxLength).status().code(),
            absl::StatusCode::kInvalidArgument);

  WriteFile(dir / "tokenizer_config.json", "{not json");
  EXPECT_EQ(LoadSentencePieceTokenizer(dir.string(), kMaxLength).status().code(),
            absl::StatusCode::kInvalidArgument);

  const fs::path garbage = *root_ / "garbage_model";
  fs::create_directories(garbage);
  WriteFile(garbage / "spiece.model", "this is not a model proto");
  EXPECT_FALSE(LoadSentencePieceTokenizer(garbage.string(), kMaxLength).ok());
}

TEST_F(SentencePieceTokenizerTest, BridgeReportsUnknownPiecesAndBadTraining) {
  EXPECT_EQ(PieceId("unigram.model", "<unk>"), 0);
  EXPECT_EQ(PieceId("unigram.model", "<pad>"), 3);
  EXPECT_EQ(PieceId("unigram.model", "definitely-not-a-piece"), -1);

  spm::TrainOptions options;
  options.vocab_size = 50;
  spm::SpmStatus missing = spm::TrainModel((*root_ / "missing.txt").string(),
                                           (*root_ / "never.model").string(), options);
  EXPECT_EQ(missing.code, static_cast<int>(absl::StatusCode::kNotFound)) << missing.message;
  EXPECT_FALSE(fs::exists(*root_ / "never.model"));

  options.extra = {{"model_prefix", "x"}};
  EXPECT_EQ(
      spm::TrainModel((*root_ / "corpus.txt").string(), (*root_ / "x.model").string(), options)
          .code,
      static_cast<int>(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace vlsm
