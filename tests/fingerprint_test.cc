#include "model/fingerprint.h"

#include <algorithm>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/safetensors.h"

namespace vlsm {
namespace {

using ::testing::MatchesRegex;
using namespace std::string_literals;

// Computed independently of this code, by parsing the file by hand in Python:
//
//   import hashlib, json, struct
//   b = open("tests/data/clipseg-tiny/model.safetensors", "rb").read()
//   n = struct.unpack("<Q", b[:8])[0]
//   hdr = json.loads(b[8:8 + n]); hdr.pop("__metadata__", None)
//   data = b[8 + n:]
//   h = hashlib.sha256()
//   for name in sorted(hdr):
//       if name.endswith("position_ids"): continue
//       t = hdr[name]; s, e = t["data_offsets"]
//       h.update(name.encode() + b"\0" + t["dtype"].encode() + b"\0" +
//                ",".join(str(d) for d in t["shape"]).encode() + b"\0" + data[s:e])
//   print("sha256:" + h.hexdigest())
constexpr char kTinyModelFingerprint[] =
    "sha256:75426dc2f309f80b697074ff60450b27d644261b937c7550628167875137c2c3";

constexpr char kEmptySha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// A tensor that owns its bytes, for building views.
struct Owned {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  std::string bytes;

  TensorView View() const { return {name, dtype, shape, bytes.data(), bytes.size()}; }
};

std::vector<TensorView> Views(const std::vector<Owned>& tensors) {
  std::vector<TensorView> views;
  for (const Owned& tensor : tensors) views.push_back(tensor.View());
  return views;
}

std::vector<Owned> SampleTensors() {
  return {
      {"encoder.weight", DType::kF32, {2, 3}, std::string(24, '\x11')},
      {"encoder.bias", DType::kF32, {3}, "abcdefghijkl"},
      {"logit_scale", DType::kF32, {}, "\x01\x02\x03\x04"},
      {"ids", DType::kI64, {1}, std::string("\x00\x01\x02\x03\x04\x05\x06\x07", 8)},
      {"empty", DType::kF16, {0, 4}, ""},
  };
}

std::string Fingerprint(const std::vector<Owned>& tensors) {
  return WeightsFingerprint(Views(tensors));
}

TEST(Sha256HexTest, KnownVectors) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(""), kEmptySha256);
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256HexTest, HandlesEmbeddedNuls) {
  EXPECT_NE(Sha256Hex(std::string("a\0b", 3)), Sha256Hex("ab"));
}

TEST(WeightsFingerprintTest, Format) {
  EXPECT_THAT(Fingerprint(SampleTensors()), MatchesRegex("sha256:[0-9a-f]{64}"));
}

TEST(WeightsFingerprintTest, NoTensorsHashesNothing) {
  EXPECT_EQ(WeightsFingerprint({}), std::string("sha256:") + kEmptySha256);
}

// Pins the exact byte stream that is hashed.
TEST(WeightsFingerprintTest, HashesNameDtypeShapeAndBytesSeparatedByNul) {
  const Owned matrix{"w", DType::kI8, {2, 3}, "abcdef"};
  const Owned scalar{"s", DType::kF32, {}, "WXYZ"};
  const std::string stream = "s\0F32\0\0WXYZ"s +
                             "w\0I8\0"
                             "2,3\0abcdef"s;
  EXPECT_EQ(Fingerprint({matrix, scalar}), "sha256:" + Sha256Hex(stream));
}

TEST(WeightsFingerprintTest, IndependentOfTensorOrder) {
  std::vector<Owned> tensors = SampleTensors();
  const std::string expected = Fingerprint(tensors);
  std::reverse(tensors.begin(), tensors.end());
  EXPECT_EQ(Fingerprint(tensors), expected);
  std::rotate(tensors.begin(), tensors.begin() + 2, tensors.end());
  EXPECT_EQ(Fingerprint(tensors), expected);
}

TEST(WeightsFingerprintTest, ChangesWhenOneByteChanges) {
  const std::string base = Fingerprint(SampleTensors());
  std::vector<Owned> tensors = SampleTensors();
  tensors[0].bytes[17] ^= 0x01;
  EXPECT_NE(Fingerprint(tensors), base);
  tensors = SampleTensors();
  tensors[2].bytes[0] = '\x00';
  EXPECT_NE(Fingerprint(tensors), base);
}

TEST(WeightsFingerprintTest, ChangesWhenShapeChanges) {
  const std::string base = Fingerprint(SampleTensors());
  for (const std::vector<int64_t>& shape :
       std::vector<std::vector<int64_t>>{{3, 2}, {6}, {1, 2, 3}, {2, 3, 1}}) {
    std::vector<Owned> tensors = SampleTensors();
    tensors[0].shape = shape;  // same 24 bytes
    EXPECT_NE(Fingerprint(tensors), base) << testing::PrintToString(shape);
  }
  std::vector<Owned> tensors = SampleTensors();
  tensors[2].shape = {1};  // 0-d vs 1-d
  EXPECT_NE(Fingerprint(tensors), base);
}

TEST(WeightsFingerprintTest, ChangesWhenDtypeChanges) {
  const std::string base = Fingerprint(SampleTensors());
  std::vector<Owned> tensors = SampleTensors();
  tensors[1].dtype = DType::kI32;  // same bytes, same shape
  EXPECT_NE(Fingerprint(tensors), base);
}

TEST(WeightsFingerprintTest, ChangesWhenNameChanges) {
  const std::string base = Fingerprint(SampleTensors());
  std::vector<Owned> tensors = SampleTensors();
  tensors[1].name = "encoder.bias2";
  EXPECT_NE(Fingerprint(tensors), base);
}

TEST(WeightsFingerprintTest, ChangesWhenATensorIsAddedOrRemoved) {
  const std::string base = Fingerprint(SampleTensors());
  std::vector<Owned> tensors = SampleTensors();
  tensors.pop_back();  // even an empty tensor counts
  EXPECT_NE(Fingerprint(tensors), base);
}

TEST(WeightsFingerprintTest, FieldBoundariesMatter) {
  // Moving a character from the name into the bytes must not collide.
  EXPECT_NE(Fingerprint({{"ab", DType::kU8, {1}, "c"}}),
            Fingerprint({{"a", DType::kU8, {1}, "b"}}));
  EXPECT_NE(Fingerprint({{"x", DType::kU8, {12}, std::string(12, 'q')}}),
            Fingerprint({{"x", DType::kU8, {1, 2}, std::string(2, 'q')}}));
}

TEST(WeightsFingerprintTest, IgnoresPositionIds) {
  const std::string base = Fingerprint(SampleTensors());
  std::vector<Owned> tensors = SampleTensors();
  tensors.push_back(
      {"clip.text_model.embeddings.position_ids", DType::kI64, {1, 2}, std::string(16, '\x07')});
  tensors.push_back({"position_ids", DType::kI64, {1}, std::string(8, '\x01')});
  EXPECT_EQ(Fingerprint(tensors), base);

  tensors.push_back({"position_ids.weight", DType::kI64, {1}, std::string(8, '\x01')});
  EXPECT_NE(Fingerprint(tensors), base);
}

TEST(WeightsFingerprintTest, TinyModelMatchesIndependentComputation) {
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file =
      SafetensorsFile::Open(std::string(VLSM_TESTDATA) + "/clipseg-tiny/model.safetensors");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(WeightsFingerprint((*file)->tensors()), kTinyModelFingerprint);
}

TEST(WeightsFingerprintTest, TinyModelSurvivesReserializationInAnotherOrder) {
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file =
      SafetensorsFile::Open(std::string(VLSM_TESTDATA) + "/clipseg-tiny/model.safetensors");
  ASSERT_TRUE(file.ok()) << file.status();
  std::vector<TensorView> tensors = (*file)->tensors();
  std::reverse(tensors.begin(), tensors.end());
  const std::string position_ids(77 * 8, '\0');
  tensors.push_back({"clip.text_model.embeddings.position_ids",
                     DType::kI64,
                     {1, 77},
                     position_ids.data(),
                     position_ids.size()});
  absl::StatusOr<std::string> bytes = SerializeSafetensors(tensors, {});
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> copy =
      SafetensorsFile::FromBuffer(*std::move(bytes));
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_EQ(WeightsFingerprint((*copy)->tensors()), kTinyModelFingerprint);
}

}  // namespace
}  // namespace vlsm
