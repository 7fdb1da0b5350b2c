#include "model/safetensors.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vlsm {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

const std::string kTestData = VLSM_TESTDATA;
const std::string kModelPath = kTestData + "/clipseg-tiny/model.safetensors";
const std::string kCasesPath = kTestData + "/clipseg-tiny/cases.safetensors";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

uint64_t HeaderLength(absl::string_view file) {
  uint64_t length = 0;
  for (int i = 0; i < 8; ++i) {
    length |= static_cast<uint64_t>(static_cast<unsigned char>(file[i])) << (8 * i);
  }
  return length;
}

// A safetensors file from a raw header string and data section.
std::string BuildFile(absl::string_view header, absl::string_view data) {
  std::string out;
  uint64_t length = header.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((length >> (8 * i)) & 0xff));
  absl::StrAppend(&out, header, data);
  return out;
}

// A valid header: "a" is F32 [2] at [0, 8), "b" is given by `b_entry`.
std::string HeaderWithB(absl::string_view b_entry) {
  return absl::StrCat(R"({"__metadata__":{"k":"v"},)",
                      R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)", R"("b":)",
                      b_entry, "}");
}

constexpr char kValidB[] = R"({"dtype":"I8","shape":[3],"data_offsets":[8,11]})";
const std::string kSmallData = "ABCDEFGHxyz";  // 11 bytes

std::string ValidSmallFile() { return BuildFile(HeaderWithB(kValidB), kSmallData); }

std::string Bytes(const TensorView& view) {
  return std::string(static_cast<const char*>(view.data), view.nbytes);
}

std::vector<std::string> Names(const SafetensorsFile& file) {
  std::vector<std::string> names;
  for (const TensorView& view : file.tensors()) names.push_back(view.name);
  return names;
}

// ---------------------------------------------------------------------------
// DTypes

TEST(DTypeTest, NamesSizesAndParsingAgree) {
  const std::vector<std::pair<std::string, size_t>> expected = {
      {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
      {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U8", 1},   {"BOOL", 1}};
  for (const auto& [name, size] : expected) {
    absl::StatusOr<DType> dtype = ParseDType(name);
    ASSERT_TRUE(dtype.ok()) << name;
    EXPECT_EQ(DTypeName(*dtype), name);
    EXPECT_EQ(DTypeSize(*dtype), size) << name;
  }
  EXPECT_EQ(ParseDType("f32").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseDType("U16").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(TensorViewTest, Numel) {
  TensorView view;
  EXPECT_EQ(view.numel(), 1);  // 0-d
  view.shape = {3, 0, 2};
  EXPECT_EQ(view.numel(), 0);
  view.shape = {49408, 20};
  EXPECT_EQ(view.numel(), 988160);
}

// ---------------------------------------------------------------------------
// Real files

TEST(SafetensorsOpenTest, TinyModel) {
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file = SafetensorsFile::Open(kModelPath);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ((*file)->tensors().size(), 206u);
  EXPECT_EQ((*file)->file_size(), 4569848u);
  EXPECT_THAT((*file)->metadata(), ElementsAre(Pair("format", "pt")));

  const TensorView* scale = (*file)->Find("clip.logit_scale");
  ASSERT_NE(scale, nullptr);
  EXPECT_THAT(scale->shape, IsEmpty());
  EXPECT_EQ(scale->dtype, DType::kF32);
  EXPECT_EQ(scale->nbytes, 4u);
  EXPECT_EQ(scale->numel(), 1);

  const TensorView* embedding = (*file)->Find("clip.text_model.embeddings.token_embedding.weight");
  ASSERT_NE(embedding, nullptr);
  EXPECT_THAT(embedding->shape, ElementsAre(49408, 20));
  EXPECT_EQ(embedding->nbytes, 49408u * 20 * 4);

  EXPECT_EQ((*file)->Find("clip.text_model.embeddings.position_ids"), nullptr);
  EXPECT_EQ((*file)->Find(""), nullptr);
}

TEST(SafetensorsOpenTest, TensorsAreInDataOffsetOrderAndContiguous) {
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file = SafetensorsFile::Open(kModelPath);
  ASSERT_TRUE(file.ok()) << file.status();
  const std::vector<TensorView>& tensors = (*file)->tensors();
  ASSERT_FALSE(tensors.empty());
  EXPECT_EQ(tensors.front().name, "clip.logit_scale");  // state_dict order
  for (size_t i = 1; i < tensors.size(); ++i) {
    const char* previous_end =
        static_cast<const char*>(tensors[i - 1].data) + tensors[i - 1].nbytes;
    EXPECT_EQ(tensors[i].data, previous_end) << tensors[i].name;
  }
  for (size_t i = 0; i < tensors.size(); ++i) {
    EXPECT_EQ((*file)->Find(tensors[i].name), &tensors[i]);
  }
}

TEST(SafetensorsOpenTest, Cases) {
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file = SafetensorsFile::Open(kCasesPath);
  ASSERT_TRUE(file.ok()) << file.status();

  const TensorView* input_ids = (*file)->Find("input_ids");
  ASSERT_NE(input_ids, nullptr);
  EXPECT_EQ(input_ids->dtype, DType::kI64);
  EXPECT_THAT(input_ids->shape, ElementsAre(3, 77));
  int64_t first = 0;
  std::memcpy(&first, input_ids->data, sizeof(first));
  EXPECT_EQ(first, 49406);

  const TensorView* mask = (*file)->Find("mask.base");
  ASSERT_NE(mask, nullptr);
  EXPECT_EQ(mask->dtype, DType::kU8);
  EXPECT_THAT(mask->shape, ElementsAre(3, 96, 96));
  EXPECT_EQ(mask->nbytes, 3u * 96 * 96);

  EXPECT_EQ((*file)->metadata().count("prompts"), 1u);
  EXPECT_THAT((*file)->metadata().at("prompts"), HasSubstr("skin lesion"));
}

TEST(SafetensorsOpenTest, MissingFileIsNotFound) {
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file =
      SafetensorsFile::Open(kTestData + "/no/such/file.safetensors");
  EXPECT_EQ(file.status().code(), absl::StatusCode::kNotFound);
}

TEST(SafetensorsOpenTest, DirectoryIsAnError) {
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file = SafetensorsFile::Open(kTestData);
  EXPECT_FALSE(file.ok());
}

TEST(SafetensorsOpenTest, OpenMatchesFromBuffer) {
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> mapped = SafetensorsFile::Open(kCasesPath);
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> buffered =
      SafetensorsFile::FromBuffer(ReadFile(kCasesPath));
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  ASSERT_TRUE(buffered.ok()) << buffered.status();
  ASSERT_EQ(Names(**mapped), Names(**buffered));
  for (size_t i = 0; i < (*mapped)->tensors().size(); ++i) {
    EXPECT_EQ(Bytes((*mapped)->tensors()[i]), Bytes((*buffered)->tensors()[i]));
  }
  EXPECT_EQ((*mapped)->metadata(), (*buffered)->metadata());
}

// ---------------------------------------------------------------------------
// Small hand-built files

TEST(SafetensorsParseTest, ValidSmallFile) {
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file =
      SafetensorsFile::FromBuffer(ValidSmallFile());
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_THAT(Names(**file), ElementsAre("a", "b"));
  EXPECT_EQ(Bytes(*(*file)->Find("a")), "ABCDEFGH");
  EXPECT_EQ(Bytes(*(*file)->Find("b")), "xyz");
  EXPECT_THAT((*file)->metadata(), ElementsAre(Pair("k", "v")));
}

TEST(SafetensorsParseTest, SortsByDataOffsetNotHeaderOrder) {
  std::string header = R"({"b":{"dtype":"U8","shape":[3],"data_offsets":[8,11]},)"
                       R"("a":{"dtype":"F64","shape":[],"data_offsets":[0,8]}})";
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file =
      SafetensorsFile::FromBuffer(BuildFile(header, kSmallData));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_THAT(Names(**file), ElementsAre("a", "b"));
  EXPECT_THAT((*file)->metadata(), IsEmpty());
}

TEST(SafetensorsParseTest, ZeroSizeTensorsAreAllowed) {
  std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                       R"("empty":{"dtype":"F32","shape":[0,5],"data_offsets":[8,8]},)"
                       R"("inside":{"dtype":"BF16","shape":[0],"data_offsets":[4,4]},)"
                       R"("b":{"dtype":"BOOL","shape":[3],"data_offsets":[8,11]}})";
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file =
      SafetensorsFile::FromBuffer(BuildFile(header, kSmallData));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_THAT(Names(**file), ElementsAre("a", "inside", "empty", "b"));
  EXPECT_EQ((*file)->Find("empty")->nbytes, 0u);
  EXPECT_THAT((*file)->Find("empty")->shape, ElementsAre(0, 5));
}

TEST(SafetensorsParseTest, HeaderMayBePaddedWithSpaces) {
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file = SafetensorsFile::FromBuffer(
      BuildFile(absl::StrCat(HeaderWithB(kValidB), "     "), kSmallData));
  EXPECT_TRUE(file.ok()) << file.status();
}

TEST(SafetensorsParseTest, EmptyHeaderObjectIsAnEmptyFile) {
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file =
      SafetensorsFile::FromBuffer(BuildFile("{}", ""));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_THAT((*file)->tensors(), IsEmpty());
}

// One malformed file per case; each must be InvalidArgument mentioning `expected`.
struct CorruptCase {
  std::string test_name;
  std::string file;
  std::string expected;
};

std::string WithB(absl::string_view b_entry) { return BuildFile(HeaderWithB(b_entry), kSmallData); }

std::vector<CorruptCase> CorruptCases() {
  return {
      {"Empty", "", "header"},
      {"ShorterThanLengthPrefix", "1234567", "header"},
      {"HeaderLengthBeyondFile", BuildFile("{}", "").substr(0, 9), "header"},
      {"HeaderLengthAbsurd", std::string(8, '\xff') + "{}", "header"},
      {"EmptyHeader", BuildFile("", kSmallData), "header"},
      {"HeaderNotJson", BuildFile(R"({"a":{"dtype":"F32",)", kSmallData), "header"},
      {"HeaderTrailingGarbage", BuildFile("{} x", ""), "header"},
      {"HeaderNotObject", BuildFile("[1,2]", kSmallData), "header"},
      {"HeaderIsString", BuildFile(R"("b")", kSmallData), "header"},
      {"MetadataNotObject",
       BuildFile(R"({"__metadata__":"pt","a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})",
                 kSmallData),
       "__metadata__"},
      {"MetadataValueNotString", BuildFile(R"({"__metadata__":{"format":1}})", ""), "format"},
      {"EntryNotObject", WithB("[1,2]"), "\"b\""},
      {"MissingDtype", WithB(R"({"shape":[3],"data_offsets":[8,11]})"), "\"b\""},
      {"DtypeNotString", WithB(R"({"dtype":1,"shape":[3],"data_offsets":[8,11]})"), "\"b\""},
      {"UnknownDtype", WithB(R"({"dtype":"Q8","shape":[3],"data_offsets":[8,11]})"), "\"b\""},
      {"LowercaseDtype", WithB(R"({"dtype":"i8","shape":[3],"data_offsets":[8,11]})"), "\"b\""},
      {"MissingShape", WithB(R"({"dtype":"I8","data_offsets":[8,11]})"), "\"b\""},
      {"ShapeNotArray", WithB(R"({"dtype":"I8","shape":3,"data_offsets":[8,11]})"), "\"b\""},
      {"ShapeEntryString", WithB(R"({"dtype":"I8","shape":["3"],"data_offsets":[8,11]})"), "\"b\""},
      {"ShapeEntryFloat", WithB(R"({"dtype":"I8","shape":[3.0],"data_offsets":[8,11]})"), "\"b\""},
      {"ShapeEntryNull", WithB(R"({"dtype":"I8","shape":[null],"data_offsets":[8,11]})"), "\"b\""},
      {"NegativeDim", WithB(R"({"dtype":"I8","shape":[-3],"data_offsets":[8,11]})"), "\"b\""},
      {"NegativeDimsCancel", WithB(R"({"dtype":"I8","shape":[-1,-3],"data_offsets":[8,11]})"),
       "\"b\""},
      {"DimBeyondInt64",
       WithB(R"({"dtype":"I8","shape":[18446744073709551615],"data_offsets":[8,11]})"), "\"b\""},
      {"ShapeProductOverflows",
       WithB(R"({"dtype":"I8","shape":[4294967296,4294967296],"data_offsets":[8,11]})"), "\"b\""},
      {"ShapeTimesDtypeOverflows",
       WithB(R"({"dtype":"F64","shape":[2305843009213693952],"data_offsets":[8,11]})"), "\"b\""},
      {"ZeroDimDoesNotHideOverflow",
       WithB(R"({"dtype":"I8","shape":[4294967296,4294967296,0],"data_offsets":[8,8]})"), "\"b\""},
      {"MissingDataOffsets", WithB(R"({"dtype":"I8","shape":[3]})"), "\"b\""},
      {"DataOffsetsNotArray", WithB(R"({"dtype":"I8","shape":[3],"data_offsets":8})"), "\"b\""},
      {"DataOffsetsOneEntry", WithB(R"({"dtype":"I8","shape":[3],"data_offsets":[8]})"), "\"b\""},
      {"DataOffsetsThreeEntries", WithB(R"({"dtype":"I8","shape":[3],"data_offsets":[8,11,11]})"),
       "\"b\""},
      {"DataOffsetsStrings", WithB(R"({"dtype":"I8","shape":[3],"data_offsets":["8","11"]})"),
       "\"b\""},
      {"DataOffsetsNegative", WithB(R"({"dtype":"I8","shape":[3],"data_offsets":[-1,2]})"),
       "\"b\""},
      {"DataOffsetsBeginAfterEnd", WithB(R"({"dtype":"I8","shape":[3],"data_offsets":[11,8]})"),
       "\"b\""},
      {"DataOffsetsEndBeyondData", WithB(R"({"dtype":"I8","shape":[4],"data_offsets":[8,12]})"),
       "\"b\""},
      {"DataOffsetsHuge",
       WithB(
           R"({"dtype":"I8","shape":[3],"data_offsets":[18446744073709551613,18446744073709551615]})"),
       "\"b\""},
      {"SizeMismatchTooFewBytes", WithB(R"({"dtype":"I8","shape":[2],"data_offsets":[8,11]})"),
       "\"b\""},
      {"SizeMismatchDtype", WithB(R"({"dtype":"I16","shape":[3],"data_offsets":[8,11]})"), "\"b\""},
      {"Overlap", WithB(R"({"dtype":"I8","shape":[3],"data_offsets":[6,9]})"), "\"b\""},
      {"SameRange", WithB(R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})"), "\"b\""},
      {"OverlapNamesOtherTensor", WithB(R"({"dtype":"I8","shape":[3],"data_offsets":[6,9]})"),
       "\"a\""},
      {"ContainedRange", WithB(R"({"dtype":"I8","shape":[2],"data_offsets":[2,4]})"), "\"b\""},
  };
}

void PrintTo(const CorruptCase& c, std::ostream* os) { *os << c.test_name; }

class CorruptFileTest : public testing::TestWithParam<CorruptCase> {};

TEST_P(CorruptFileTest, IsInvalidArgumentNamingTheCulprit) {
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file =
      SafetensorsFile::FromBuffer(GetParam().file);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument) << file.status();
  EXPECT_THAT(file.status().message(), HasSubstr(GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(AllCorruptions, CorruptFileTest, testing::ValuesIn(CorruptCases()),
                         [](const testing::TestParamInfo<CorruptCase>& info) {
                           return info.param.test_name;
                         });

// Not a CorruptCase: the parameters are built at startup, and this file is big.
TEST(CorruptHeaderTest, HeaderLengthOverLimit) {
  // Header length 0x06400001 = (100 << 20) + 1, in a file long enough to hold it.
  std::string file = BuildFile("", "");
  file[0] = 0x01;
  file[2] = 0x40;
  file[3] = 0x06;
  file.resize(HeaderLength(file) + 64, ' ');
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> parsed =
      SafetensorsFile::FromBuffer(std::move(file));
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(parsed.status().message(), HasSubstr("header"));
  EXPECT_THAT(parsed.status().message(), HasSubstr("limit"));
}

// Guards the corruption cases: the file they all start from is valid.
TEST(CorruptCasesTest, BaseFileIsValid) {
  EXPECT_TRUE(SafetensorsFile::FromBuffer(ValidSmallFile()).ok());
  EXPECT_TRUE(SafetensorsFile::FromBuffer(WithB(kValidB)).ok());
}

// Checks what a successfully parsed, possibly mangled, file promises.
void ExpectConsistent(const SafetensorsFile& file) {
  const char* previous_end = nullptr;
  for (const TensorView& view : file.tensors()) {
    int64_t numel = 1;
    for (int64_t dim : view.shape) {
      ASSERT_GE(dim, 0) << view.name;
      numel *= dim;
    }
    EXPECT_EQ(view.nbytes, static_cast<size_t>(numel) * DTypeSize(view.dtype)) << view.name;
    if (view.nbytes == 0) continue;
    const char* begin = static_cast<const char*>(view.data);
    if (previous_end != nullptr) {
      EXPECT_GE(begin, previous_end) << view.name;
    }
    previous_end = begin + view.nbytes;
    // Touch every byte (ASan flags any view reaching outside the file).
    unsigned sum = 0;
    for (size_t i = 0; i < view.nbytes; ++i) sum += static_cast<unsigned char>(begin[i]);
    (void)sum;
  }
}

TEST(SafetensorsRobustnessTest, TruncatedFilesAreRejected) {
  const std::string model = ReadFile(kModelPath);
  ASSERT_EQ(model.size(), 4569848u);
  const size_t header_end = 8 + HeaderLength(model);
  std::vector<size_t> lengths;
  for (size_t n = 0; n < 64; ++n) lengths.push_back(n);
  for (size_t i = 0; i < 150; ++i) lengths.push_back(8 + (header_end - 8) * i / 150);
  for (size_t i = 0; i < 150; ++i)
    lengths.push_back(header_end + (model.size() - header_end) * i / 150);
  lengths.push_back(header_end - 1);
  lengths.push_back(model.size() - 1);
  for (size_t length : lengths) {
    absl::StatusOr<std::unique_ptr<SafetensorsFile>> file =
        SafetensorsFile::FromBuffer(model.substr(0, length));
    ASSERT_FALSE(file.ok()) << "length " << length;
    EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument) << "length " << length;
  }
  EXPECT_TRUE(SafetensorsFile::FromBuffer(model).ok());
}

TEST(SafetensorsRobustnessTest, TruncatedFilesOnDiskAreRejected) {
  const std::string model = ReadFile(kModelPath);
  const std::string path = testing::TempDir() + "/truncated.safetensors";
  for (size_t length : {size_t{0}, size_t{5}, size_t{8}, size_t{100}, size_t{23136},
                        model.size() / 2, model.size() - 1}) {
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out.write(model.data(), static_cast<std::streamsize>(length));
    }
    absl::StatusOr<std::unique_ptr<SafetensorsFile>> file = SafetensorsFile::Open(path);
    EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument) << "length " << length;
  }
  std::remove(path.c_str());
}

TEST(SafetensorsRobustnessTest, RandomHeaderByteFlipsNeverCrash) {
  const std::string model = ReadFile(kModelPath);
  const size_t header_end = 8 + HeaderLength(model);
  std::mt19937 rng(20240611);
  std::uniform_int_distribution<size_t> position(0, header_end - 1);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> flips(1, 4);
  int rejected = 0;
  constexpr int kTrials = 400;
  for (int trial = 0; trial < kTrials; ++trial) {
    std::string mangled = model;
    for (int i = flips(rng); i > 0; --i) mangled[position(rng)] = static_cast<char>(byte(rng));
    absl::StatusOr<std::unique_ptr<SafetensorsFile>> file =
        SafetensorsFile::FromBuffer(std::move(mangled));
    if (file.ok()) {
      ExpectConsistent(**file);
    } else {
      ++rejected;
      EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument) << file.status();
    }
  }
  EXPECT_GT(rejected, 0);
}

// ---------------------------------------------------------------------------
// Serialization

void ExpectSameFile(const SafetensorsFile& a, const SafetensorsFile& b) {
  ASSERT_EQ(a.tensors().size(), b.tensors().size());
  for (size_t i = 0; i < a.tensors().size(); ++i) {
    const TensorView& x = a.tensors()[i];
    const TensorView& y = b.tensors()[i];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.dtype, y.dtype) << x.name;
    EXPECT_EQ(x.shape, y.shape) << x.name;
    EXPECT_EQ(Bytes(x), Bytes(y)) << x.name;
  }
  EXPECT_EQ(a.metadata(), b.metadata());
}

TEST(SerializeTest, RoundTripsTheTinyModel) {
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> original = SafetensorsFile::Open(kModelPath);
  ASSERT_TRUE(original.ok()) << original.status();
  absl::StatusOr<std::string> bytes =
      SerializeSafetensors((*original)->tensors(), (*original)->metadata());
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ((8 + HeaderLength(*bytes)) % 8, 0u);
  EXPECT_EQ(bytes->substr(8, 16), R"({"__metadata__":)");
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> copy = SafetensorsFile::FromBuffer(*bytes);
  ASSERT_TRUE(copy.ok()) << copy.status();
  ExpectSameFile(**original, **copy);
}

TEST(SerializeTest, RoundTripsEveryDtypeZeroDAndEmptyTensors) {
  const std::string payload(64, '\x5a');
  std::vector<TensorView> tensors;
  for (const char* name : {"BOOL", "U8", "F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8"}) {
    TensorView view;
    view.name = absl::StrCat("t.", name);
    view.dtype = *ParseDType(name);
    view.shape = {3};
    view.data = payload.data();
    view.nbytes = 3 * DTypeSize(view.dtype);
    tensors.push_back(view);
  }
  TensorView scalar{"scalar", DType::kF32, {}, payload.data(), 4};
  TensorView empty{"empty", DType::kF16, {4, 0}, nullptr, 0};
  tensors.push_back(scalar);
  tensors.push_back(empty);
  const std::map<std::string, std::string> metadata = {{"format", "pt"}, {"note", "a \"q\"\n"}};

  absl::StatusOr<std::string> bytes = SerializeSafetensors(tensors, metadata);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ((8 + HeaderLength(*bytes)) % 8, 0u);
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file = SafetensorsFile::FromBuffer(*bytes);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_EQ((*file)->tensors().size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {  // the given order is the offset order
    const TensorView& view = (*file)->tensors()[i];
    EXPECT_EQ(view.name, tensors[i].name);
    EXPECT_EQ(view.dtype, tensors[i].dtype);
    EXPECT_EQ(view.shape, tensors[i].shape);
    EXPECT_EQ(Bytes(view), Bytes(tensors[i]));
  }
  EXPECT_EQ((*file)->metadata(), metadata);
}

TEST(SerializeTest, NoMetadataKeyWhenMetadataIsEmpty) {
  TensorView view{"x", DType::kU8, {1}, "!", 1};
  absl::StatusOr<std::string> bytes = SerializeSafetensors({view}, {});
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(bytes->find("__metadata__"), std::string::npos);
  EXPECT_EQ((8 + HeaderLength(*bytes)) % 8, 0u);
  EXPECT_EQ(bytes->back(), '!');
  EXPECT_TRUE(SafetensorsFile::FromBuffer(*bytes).ok());
}

TEST(SerializeTest, EmptyFileRoundTrips) {
  absl::StatusOr<std::string> bytes = SerializeSafetensors({}, {});
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(bytes->size() % 8, 0u);
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file = SafetensorsFile::FromBuffer(*bytes);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_THAT((*file)->tensors(), IsEmpty());
}

TEST(SerializeTest, RejectsDuplicateNames) {
  TensorView view{"dup.weight", DType::kU8, {1}, "!", 1};
  absl::StatusOr<std::string> bytes = SerializeSafetensors({view, view}, {});
  EXPECT_EQ(bytes.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bytes.status().message(), HasSubstr("dup.weight"));
}

TEST(SerializeTest, RejectsNbytesMismatch) {
  const std::string payload(16, '\0');
  TensorView view{"w", DType::kF32, {3}, payload.data(), 16};
  absl::StatusOr<std::string> bytes = SerializeSafetensors({view}, {});
  EXPECT_EQ(bytes.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bytes.status().message(), HasSubstr("\"w\""));
}

TEST(SerializeTest, RejectsNegativeDims) {
  TensorView view{"neg", DType::kU8, {-1}, nullptr, 0};
  EXPECT_EQ(SerializeSafetensors({view}, {}).status().code(), absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// Atomic writes

class WriteFileAtomicallyTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = testing::TempDir() + "/write_atomic_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    for (const std::string& name : List()) std::remove((dir_ + "/" + name).c_str());
    rmdir(dir_.c_str());
  }

  std::vector<std::string> List() const {
    std::vector<std::string> names;
    DIR* dir = opendir(dir_.c_str());
    if (dir == nullptr) return names;
    while (dirent* entry = readdir(dir)) {
      std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    closedir(dir);
    return names;
  }

  std::string dir_;
};

TEST_F(WriteFileAtomicallyTest, WritesOverwritesAndLeavesNoTempFiles) {
  const std::string path = dir_ + "/adapter.safetensors";
  ASSERT_TRUE(WriteFileAtomically(path, "first version").ok());
  EXPECT_EQ(ReadFile(path), "first version");
  ASSERT_TRUE(WriteFileAtomically(path, "second").ok());
  EXPECT_EQ(ReadFile(path), "second");
  ASSERT_TRUE(WriteFileAtomically(path, "").ok());
  EXPECT_EQ(ReadFile(path), "");
  EXPECT_THAT(List(), UnorderedElementsAre("adapter.safetensors"));
}

TEST_F(WriteFileAtomicallyTest, WrittenFileIsWorldReadable) {
  const std::string path = dir_ + "/m.safetensors";
  ASSERT_TRUE(WriteFileAtomically(path, "x").ok());
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST_F(WriteFileAtomicallyTest, LargeSerializedFileRoundTrips) {
  std::string model = ReadFile(kModelPath);
  const std::string path = dir_ + "/model.safetensors";
  ASSERT_TRUE(WriteFileAtomically(path, model).ok());
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> written = SafetensorsFile::Open(path);
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> original =
      SafetensorsFile::FromBuffer(std::move(model));
  ASSERT_TRUE(written.ok()) << written.status();
  ASSERT_TRUE(original.ok()) << original.status();
  ExpectSameFile(**original, **written);
  EXPECT_THAT(List(), UnorderedElementsAre("model.safetensors"));
}

TEST_F(WriteFileAtomicallyTest, MissingDirectoryFails) {
  absl::Status status = WriteFileAtomically(dir_ + "/missing/out.bin", "x");
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(List(), IsEmpty());
}

TEST_F(WriteFileAtomicallyTest, RenameFailureRemovesTempFile) {
  // The target is a non-empty directory, so rename() fails after the write.
  const std::string target = dir_ + "/target";
  ASSERT_EQ(mkdir(target.c_str(), 0755), 0);
  const std::string inner = target + "/keep";
  ASSERT_TRUE(WriteFileAtomically(inner, "x").ok());
  absl::Status status = WriteFileAtomically(target, "y");
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(List(), UnorderedElementsAre("target"));
  std::remove(inner.c_str());
  rmdir(target.c_str());
}

TEST_F(WriteFileAtomicallyTest, ReadOnlyDirectoryIsPermissionDenied) {
  if (geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  ASSERT_EQ(chmod(dir_.c_str(), 0555), 0);
  absl::Status status = WriteFileAtomically(dir_ + "/out.bin", "x");
  chmod(dir_.c_str(), 0755);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << status;
  EXPECT_THAT(List(), IsEmpty());
}

// ---------------------------------------------------------------------------
// Whole-file reads (the temp directory fixture of the atomic writes)

using ReadFileToStringTest = WriteFileAtomicallyTest;

TEST_F(ReadFileToStringTest, ReadsEveryByte) {
  std::string bytes(200000, '\0');  // several read() chunks, NULs included
  std::mt19937 rng(3);
  for (char& c : bytes) c = static_cast<char>(rng());
  const std::string path = dir_ + "/bytes.bin";
  ASSERT_TRUE(WriteFileAtomically(path, bytes).ok());
  absl::StatusOr<std::string> read = ReadFileToString(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, bytes);
  ASSERT_TRUE(WriteFileAtomically(path, "").ok());
  read = ReadFileToString(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, "");
}

TEST_F(ReadFileToStringTest, ReadsFilesThatReportNoSize) {
  // /proc files stat as 0 bytes; the read goes on to the end anyway.
  absl::StatusOr<std::string> read = ReadFileToString("/proc/self/status");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(*read, HasSubstr("Pid:"));
}

TEST_F(ReadFileToStringTest, MissingFileIsNotFoundNamingIt) {
  const std::string path = dir_ + "/missing.pem";
  absl::StatusOr<std::string> read = ReadFileToString(path);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kNotFound) << read.status();
  EXPECT_THAT(std::string(read.status().message()), HasSubstr(path));
}

TEST_F(ReadFileToStringTest, DirectoryIsInvalidArgumentNamingIt) {
  absl::StatusOr<std::string> read = ReadFileToString(dir_);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument) << read.status();
  EXPECT_THAT(std::string(read.status().message()), HasSubstr(dir_));
}

TEST_F(ReadFileToStringTest, UnreadableFileIsPermissionDenied) {
  if (geteuid() == 0) GTEST_SKIP() << "root ignores file permissions";
  const std::string path = dir_ + "/secret.pem";
  ASSERT_TRUE(WriteFileAtomically(path, "x").ok());
  ASSERT_EQ(chmod(path.c_str(), 0), 0);
  EXPECT_EQ(ReadFileToString(path).status().code(), absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace vlsm
