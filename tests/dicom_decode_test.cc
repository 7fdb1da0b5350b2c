// DecodeDicom / ReadDicomInfo against pydicom (tests/dicom_reference.py) on
// every file of pydicom's test_files, plus hostile-input tests.
#include "model/dicom_decode.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <new>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "tests/support/files.h"

// --- Allocation watch: the largest single operator new while armed. --------
// DCMTK allocates element values with new[] (nothrow), so replacing the
// global operators sees its allocations too.
namespace {
std::atomic<bool> g_watch{false};
std::atomic<size_t> g_largest{0};
void* Allocate(size_t n) {
  if (g_watch.load(std::memory_order_relaxed)) {
    size_t prev = g_largest.load(std::memory_order_relaxed);
    while (n > prev && !g_largest.compare_exchange_weak(prev, n)) {
    }
  }
  return std::malloc(n == 0 ? 1 : n);
}
}  // namespace

void* operator new(size_t n) {
  if (void* p = Allocate(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) {
  if (void* p = Allocate(n)) return p;
  throw std::bad_alloc();
}
void* operator new(size_t n, const std::nothrow_t&) noexcept { return Allocate(n); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return Allocate(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace vlsm {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Largest single allocation made by `fn`.
template <typename Fn>
size_t LargestAllocation(Fn&& fn) {
  g_largest = 0;
  g_watch = true;
  fn();
  g_watch = false;
  return g_largest.load();
}

std::string TestFile(const std::string& relative) {
  return std::string(VLSM_PYDICOM_TEST_FILES) + "/" + relative;
}

using test_support::ReadFileBytes;

// --- pydicom reference -------------------------------------------------------

// Runs tests/dicom_reference.py once per process into a temporary directory,
// loads its index and arrays, and removes the directory.
class Reference {
 public:
  static const Reference& Get() {
    static const Reference* ref = new Reference();
    return *ref;
  }
  bool ok() const { return ok_; }
  const json& index() const { return index_; }
  const std::vector<float>& Values(const std::string& file) const { return values_.at(file); }

 private:
  Reference() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/dicom_ref_XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) return;
    const fs::path dir = pattern;
    const std::string cmd =
        absl::StrCat("'", VLSM_REFERENCE_PYTHON, "' '", VLSM_DICOM_REFERENCE_SCRIPT, "' --root '",
                     VLSM_PYDICOM_TEST_FILES, "' --out '", dir.string(), "'");
    if (std::system(cmd.c_str()) == 0) {
      std::ifstream in(dir / "index.json");
      index_ = json::parse(in, nullptr, /*allow_exceptions=*/false);
      ok_ = !index_.is_discarded() && index_.contains("files");
      for (const json& entry : ok_ ? index_["files"] : json::array()) {
        for (const json& c : entry.value("checked", json::array())) {
          const std::string raw = ReadFileBytes((dir / c["file"].get<std::string>()).string());
          std::vector<float>& v = values_[c["file"]];
          v.resize(raw.size() / sizeof(float));
          std::memcpy(v.data(), raw.data(), v.size() * sizeof(float));
        }
      }
    }
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
  ~Reference() = delete;

  json index_;
  std::map<std::string, std::vector<float>> values_;
  bool ok_ = false;
};

// Compares a decoded frame with the reference; "" when equal.
std::string Compare(const DecodedImage& got, const std::vector<float>& want,
                    const std::vector<int64_t>& shape, bool fractional) {
  const int64_t channels = shape.size() > 2 ? shape[2] : 1;
  if (got.height != shape[0] || got.width != shape[1] || got.channels != channels) {
    return absl::StrCat("shape ", got.height, "x", got.width, "x", got.channels, " vs ", shape[0],
                        "x", shape[1], "x", channels);
  }
  if (got.pixels.size() != want.size()) return "value count differs";
  int64_t mismatches = 0, first = -1;
  for (size_t i = 0; i < want.size(); ++i) {
    const float a = got.pixels[i], b = want[i];
    const bool equal = fractional ? std::fabs(a - b) <= 1e-4 * std::max(1.f, std::fabs(b)) : a == b;
    if (!equal) {
      if (first < 0) first = static_cast<int64_t>(i);
      ++mismatches;
    }
  }
  if (mismatches == 0) return "";
  return absl::StrFormat("%d of %d values differ (first at %d: %g vs %g)", mismatches, want.size(),
                         first, got.pixels[first], want[first]);
}

struct Row {
  std::string path, expectation, outcome;
  bool pass;
};

std::string FirstLine(absl::string_view s) { return std::string(s.substr(0, s.find('\n'))); }

// Checks one indexed file; returns its coverage-table row.
Row CheckFile(const Reference& ref, const json& entry) {
  Row row{entry["path"], entry["status"], "", true};
  const std::string bytes = ReadFileBytes(TestFile(row.path));
  const std::string status = entry["status"];
  if (status == "ok") {
    row.expectation = absl::StrCat("equal to ", entry["reference"].get<std::string>());
    absl::StatusOr<DicomInfo> info = ReadDicomInfo(bytes);
    if (!info.ok()) {
      row.pass = false;
      row.outcome = absl::StrCat("REFUSED: ", info.status().message());
      return row;
    }
    if (info->frames != entry["frames"] || info->rows != entry["rows"] ||
        info->cols != entry["cols"] || info->samples_per_pixel != entry["channels"] ||
        info->photometric != entry["photometric"]) {
      row.pass = false;
      row.outcome = "DIFFERS: header (frames/rows/cols/samples/photometric)";
      return row;
    }
    std::vector<std::string> frames;
    for (const json& c : entry["checked"]) {
      const int64_t f = c["frame"];
      frames.push_back(absl::StrCat(f));
      absl::StatusOr<DecodedImage> img = DecodeDicom(bytes, DecodeLimits(), f);
      if (!img.ok()) {
        row.pass = false;
        row.outcome = absl::StrCat("REFUSED frame ", f, ": ", img.status().message());
        return row;
      }
      const std::string diff = Compare(*img, ref.Values(c["file"]),
                                       c["shape"].get<std::vector<int64_t>>(), entry["fractional"]);
      if (!diff.empty()) {
        row.pass = false;
        row.outcome = absl::StrCat("DIFFERS frame ", f, ": ", diff);
        return row;
      }
      if (img->monochrome1 != entry["monochrome1"].get<bool>()) {
        row.pass = false;
        row.outcome = "DIFFERS: monochrome1 flag";
        return row;
      }
      const json& window = entry["window"];
      if (window.is_null() != !img->file_window.has_value() ||
          (!window.is_null() && (img->file_window->center != window[0].get<double>() ||
                                 img->file_window->width != window[1].get<double>()))) {
        row.pass = false;
        row.outcome = "DIFFERS: file_window";
        return row;
      }
    }
    row.outcome = absl::StrCat("decoded & equal (frames ", absl::StrJoin(frames, ","), ")");
    return row;
  }

  // Everything else has no pydicom values: it must be refused cleanly, or,
  // for "no_reference", may decode (the table says which).
  absl::StatusOr<DecodedImage> img = DecodeDicom(bytes, DecodeLimits());
  if (status == "no_reference") {
    row.expectation =
        absl::StrCat("no reference (", FirstLine(entry["reason"].get<std::string>()), ")");
  } else {
    row.expectation =
        status == "not_dicom" ? "refused (pydicom cannot read it)" : "refused (no Pixel Data)";
  }
  if (img.ok()) {
    row.outcome = absl::StrCat("decoded ", img->width, "x", img->height, "x", img->channels);
    row.pass = status == "no_reference";
  } else {
    row.outcome = absl::StrCat("refused: ", img.status().message());
    row.pass = absl::IsInvalidArgument(img.status());
  }
  return row;
}

TEST(DicomReference, EveryPydicomTestFileMatchesOrIsRefused) {
  const Reference& ref = Reference::Get();
  ASSERT_TRUE(ref.ok()) << "tests/dicom_reference.py failed (needs " VLSM_REFERENCE_PYTHON
                           " with numpy + pydicom)";
  std::vector<Row> rows;
  int equal = 0;
  for (const json& entry : ref.index()["files"]) {
    rows.push_back(CheckFile(ref, entry));
    EXPECT_TRUE(rows.back().pass) << rows.back().path << ": " << rows.back().outcome;
    if (rows.back().pass && entry["status"] == "ok") ++equal;
  }
  // 80 on Debian 12 (pydicom 2.3.1 with its numpy, Pillow and RLE handlers
  // plus the DCMTK tools); fewer means the reference lost files, not a pass.
  EXPECT_GE(equal, 80) << "the references need dcmtk (dcmdjpeg, dcmdjpls, dcmdrle) and "
                          "libopenjp2-tools (opj_decompress) installed";

  std::ostringstream table;
  table << "| file | expectation | outcome |\n|---|---|---|\n";
  for (const Row& r : rows) {
    table << "| " << r.path << " | " << r.expectation << " | " << (r.pass ? "" : "FAIL: ")
          << r.outcome << " |\n";
  }
  std::cout << table.str();
  if (const char* out = std::getenv("VLSM_DICOM_COVERAGE")) std::ofstream(out) << table.str();
}

// --- Focused behaviour -------------------------------------------------------

TEST(DicomInfo, ReadsCtHeaderWithoutPatientData) {
  absl::StatusOr<DicomInfo> info = ReadDicomInfo(ReadFileBytes(TestFile("CT_small.dcm")));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->frames, 1);
  EXPECT_EQ(info->rows, 128);
  EXPECT_EQ(info->cols, 128);
  EXPECT_EQ(info->modality, "CT");
  EXPECT_EQ(info->photometric, "MONOCHROME2");
  EXPECT_EQ(info->transfer_syntax_uid, "1.2.840.10008.1.2.1");
  EXPECT_FALSE(info->encapsulated);
  EXPECT_EQ(info->sop_class_uid, "1.2.840.10008.5.1.4.1.1.2");
  EXPECT_EQ(info->sop_instance_uid, "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322");
  EXPECT_EQ(info->study_instance_uid, "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322");
  EXPECT_EQ(info->series_instance_uid, "1.3.6.1.4.1.5962.1.3.1.1.20040119072730.12322");
  EXPECT_EQ(info->frame_of_reference_uid, "1.3.6.1.4.1.5962.1.4.1.1.20040119072730.12322");
  ASSERT_TRUE(info->image_position_patient.has_value());
  EXPECT_DOUBLE_EQ((*info->image_position_patient)[0], -158.135803);
  EXPECT_DOUBLE_EQ((*info->image_position_patient)[2], -75.699997);
  ASSERT_TRUE(info->image_orientation_patient.has_value());
  EXPECT_EQ(*info->image_orientation_patient, (std::array<double, 6>{1, 0, 0, 0, 1, 0}));
  ASSERT_TRUE(info->pixel_spacing.has_value());
  EXPECT_DOUBLE_EQ((*info->pixel_spacing)[1], 0.661468);
  EXPECT_EQ(info->slice_thickness, 5.0);
  EXPECT_EQ(info->rescale_slope, 1.0);
  EXPECT_EQ(info->rescale_intercept, -1024.0);
  EXPECT_TRUE(info->windows.empty());
  EXPECT_TRUE(info->is_signed);
  EXPECT_EQ(info->bits_stored, 16);
}

TEST(DicomInfo, ReportsTransferSyntaxAndFramesOfCompressedMultiFrame) {
  absl::StatusOr<DicomInfo> info = ReadDicomInfo(ReadFileBytes(TestFile("SC_rgb_rle_2frame.dcm")));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->frames, 2);
  EXPECT_EQ(info->samples_per_pixel, 3);
  EXPECT_EQ(info->transfer_syntax_uid, "1.2.840.10008.1.2.5");
  EXPECT_TRUE(info->encapsulated);
}

TEST(DicomDecode, MonochromeOneIsFlaggedNotInverted) {
  const std::string bytes = ReadFileBytes(TestFile("dicomdirtests/77654033/CR1/6154"));
  absl::StatusOr<DecodedImage> img = DecodeDicom(bytes, DecodeLimits());
  ASSERT_TRUE(img.ok()) << img.status();
  EXPECT_TRUE(img->monochrome1);
  EXPECT_EQ(img->format, "dicom");
  EXPECT_EQ(img->channels, 1);
}

// Lossless encodings of MR_small.dcm decode to the very same values.
TEST(DicomDecode, LosslessTwinsOfMrSmallAgree) {
  absl::StatusOr<DecodedImage> base = DecodeDicom(ReadFileBytes(TestFile("MR_small.dcm")), {});
  ASSERT_TRUE(base.ok()) << base.status();
  for (const char* twin :
       {"MR_small_implicit.dcm", "MR_small_bigendian.dcm", "MR_small_expb.dcm", "MR_small_RLE.dcm",
        "MR_small_jp2klossless.dcm", "MR_small_jpeg_ls_lossless.dcm", "MR_small_padded.dcm"}) {
    absl::StatusOr<DecodedImage> img = DecodeDicom(ReadFileBytes(TestFile(twin)), {});
    ASSERT_TRUE(img.ok()) << twin << ": " << img.status();
    EXPECT_EQ(img->pixels, base->pixels) << twin;
  }
}

TEST(DicomDecode, FrameOutOfRangeIsInvalidArgument) {
  const std::string multi = ReadFileBytes(TestFile("rtdose.dcm"));  // 15 frames
  EXPECT_TRUE(DecodeDicom(multi, {}, 14).ok());
  for (int64_t f : {-1, 15, 1000}) {
    absl::StatusOr<DecodedImage> img = DecodeDicom(multi, {}, f);
    EXPECT_TRUE(absl::IsInvalidArgument(img.status())) << f;
    EXPECT_TRUE(absl::StrContains(img.status().message(), "out of range")) << img.status();
  }
  EXPECT_TRUE(absl::IsInvalidArgument(
      DecodeDicom(ReadFileBytes(TestFile("MR_small.dcm")), {}, 1).status()));
  const std::string rle = ReadFileBytes(TestFile("SC_rgb_rle_2frame.dcm"));
  EXPECT_TRUE(DecodeDicom(rle, {}, 1).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(DecodeDicom(rle, {}, 2).status()));
}

TEST(DicomDecode, TruncatedFilesAreRefusedAtEveryLength) {
  for (const char* name :
       {"MR_small.dcm", "SC_rgb_rle.dcm", "SC_rgb_jpeg_dcmtk.dcm", "MR_small_jp2klossless.dcm",
        "MR_small_jpeg_ls_lossless.dcm", "image_dfl.dcm"}) {
    const std::string bytes = ReadFileBytes(TestFile(name));
    ASSERT_TRUE(DecodeDicom(bytes, {}).ok()) << name;
    const size_t step = std::max<size_t>(1, bytes.size() / 150);
    for (size_t n = 0; n < bytes.size() - 1; n += step) {
      absl::StatusOr<DecodedImage> img = DecodeDicom(bytes.substr(0, n), {});
      // Pixel Data is the last element, so no prefix holds a whole image.
      EXPECT_TRUE(absl::IsInvalidArgument(img.status()))
          << name << " cut at " << n << ": " << img.status();
    }
  }
  EXPECT_TRUE(absl::IsInvalidArgument(
      DecodeDicom(ReadFileBytes(TestFile("MR_truncated.dcm")), {}).status()));
}

TEST(DicomDecode, NonDicomBytesAreInvalidArgument) {
  for (const std::string& bytes :
       {std::string(""), std::string("hello, world"),
        std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16), std::string(200, '\0'),
        std::string(128, '\0') + "DICM", ReadFileBytes(TestFile("README.txt")),
        ReadFileBytes(TestFile("test1.json")), ReadFileBytes(TestFile("zipMR.gz")),
        ReadFileBytes(TestFile("rtplan.dcm"))}) {
    absl::StatusOr<DecodedImage> img = DecodeDicom(bytes, {});
    EXPECT_TRUE(absl::IsInvalidArgument(img.status())) << img.status();
    EXPECT_TRUE(absl::IsInvalidArgument(ReadDicomInfo(bytes).status()));
  }
}

// Random bytes, and random corruptions of valid files of each codec: any
// outcome but a crash, a hang or a status other than OK/InvalidArgument.
TEST(DicomDecode, GarbageNeverCrashes) {
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int i = 0; i < 200; ++i) {
    std::string bytes(1 + rng() % 4096, '\0');
    for (char& c : bytes) c = static_cast<char>(byte(rng));
    if (i % 2 == 1) bytes = std::string(128, '\0') + "DICM" + bytes;
    absl::StatusOr<DecodedImage> img = DecodeDicom(bytes, {});
    EXPECT_TRUE(absl::IsInvalidArgument(img.status())) << i << ": " << img.status();
  }
  for (const char* name :
       {"MR_small.dcm", "SC_rgb_rle.dcm", "SC_rgb_jpeg_dcmtk.dcm", "JPGExtended.dcm",
        "SC_rgb_jpeg_gdcm.dcm", "MR_small_jp2klossless.dcm", "MR_small_jpeg_ls_lossless.dcm",
        "image_dfl.dcm", "liver_1frame.dcm", "SC_ybr_full_422_uncompressed.dcm"}) {
    const std::string original = ReadFileBytes(TestFile(name));
    for (int i = 0; i < 60; ++i) {
      std::string bytes = original;
      const int flips = 1 + static_cast<int>(rng() % 8);
      for (int k = 0; k < flips; ++k) {
        bytes[rng() % bytes.size()] = static_cast<char>(byte(rng));
      }
      absl::StatusOr<DecodedImage> img = DecodeDicom(bytes, {});
      EXPECT_TRUE(img.ok() || absl::IsInvalidArgument(img.status()))
          << name << ": " << img.status();
      if (img.ok()) {
        EXPECT_EQ(static_cast<int64_t>(img->pixels.size()),
                  img->height * img->width * img->channels);
      }
    }
  }
}

// --- A hand-built explicit VR little endian file for limit tests. ------------

void AppendElement(std::string& out, uint16_t group, uint16_t element, const char* vr,
                   const std::string& value) {
  auto u16 = [&out](uint32_t v) {
    out.push_back(static_cast<char>(v & 0xFF));
    out.push_back(static_cast<char>((v >> 8) & 0xFF));
  };
  u16(group);
  u16(element);
  out.append(vr, 2);
  const bool long_form = std::string(vr) == "OB" || std::string(vr) == "OW";
  if (long_form) {
    u16(0);
    u16(value.size() & 0xFFFF);
    u16(value.size() >> 16);
  } else {
    u16(static_cast<uint32_t>(value.size()));
  }
  out += value;
}

std::string Us(uint16_t v) {
  return std::string{static_cast<char>(v & 0xFF), static_cast<char>(v >> 8)};
}

// One grayscale image; `extra` holds encoded elements between (0028,0103)
// and (7FE0,0010), e.g. Rescale, Window or Modality LUT attributes.
struct Spec {
  std::string transfer_syntax = std::string("1.2.840.10008.1.2.1", 20);
  uint16_t rows = 2, cols = 2;
  std::string frames = "1 ";
  std::string photometric = "MONOCHROME2 ";
  uint16_t bits_allocated = 16, bits_stored = 16, high_bit = 15, pixel_representation = 0;
  std::string extra;
  std::string pixels;
  std::string raw_pixel_element;  // if set, replaces the (7FE0,0010) built from `pixels`
};

std::string Build(const Spec& spec) {
  std::string out(128, '\0');
  out += "DICM";
  AppendElement(out, 0x0002, 0x0010, "UI", spec.transfer_syntax);
  AppendElement(out, 0x0028, 0x0002, "US", Us(1));
  AppendElement(out, 0x0028, 0x0004, "CS", spec.photometric);
  AppendElement(out, 0x0028, 0x0008, "IS", spec.frames);
  AppendElement(out, 0x0028, 0x0010, "US", Us(spec.rows));
  AppendElement(out, 0x0028, 0x0011, "US", Us(spec.cols));
  AppendElement(out, 0x0028, 0x0100, "US", Us(spec.bits_allocated));
  AppendElement(out, 0x0028, 0x0101, "US", Us(spec.bits_stored));
  AppendElement(out, 0x0028, 0x0102, "US", Us(spec.high_bit));
  AppendElement(out, 0x0028, 0x0103, "US", Us(spec.pixel_representation));
  out += spec.extra;
  if (spec.raw_pixel_element.empty()) {
    AppendElement(out, 0x7FE0, 0x0010, "OW", spec.pixels);
  } else {
    out += spec.raw_pixel_element;
  }
  return out;
}

std::string BuildImage(uint16_t rows, uint16_t cols, const std::string& frames,
                       const std::string& pixel_data) {
  Spec spec;
  spec.rows = rows;
  spec.cols = cols;
  spec.frames = frames;
  spec.pixels = pixel_data;
  return Build(spec);
}

std::string Words(std::initializer_list<uint16_t> values) {
  std::string out;
  for (uint16_t v : values) out += Us(v);
  return out;
}

std::string Ds(uint16_t element, const std::string& value) {
  std::string out;
  AppendElement(out, 0x0028, element, "DS", value);
  return out;
}

TEST(DicomDecode, HandBuiltImageDecodes) {
  absl::StatusOr<DecodedImage> img =
      DecodeDicom(BuildImage(2, 2, "1 ", Words({0, 1, 2, 65535})), {});
  ASSERT_TRUE(img.ok()) << img.status();
  EXPECT_EQ(img->pixels, (std::vector<float>{0, 1, 2, 65535}));
  EXPECT_FALSE(img->file_window.has_value());
}

TEST(DicomDecode, BitsStoredHighBitAndSignAreHonoured) {
  Spec spec;
  spec.bits_stored = 12;
  spec.high_bit = 11;
  spec.pixel_representation = 1;
  // 0xF7FF has bits above High Bit set: masked off, leaving +2047.
  spec.pixels = Words({0x0FFF, 0x0800, 0x07FF, 0xF7FF});
  absl::StatusOr<DecodedImage> img = DecodeDicom(Build(spec), {});
  ASSERT_TRUE(img.ok()) << img.status();
  EXPECT_EQ(img->pixels, (std::vector<float>{-1, -2048, 2047, 2047}));
  EXPECT_EQ(img->bits_stored, 12);

  // Stored bits not starting at bit 0: High Bit 11, 8 bits stored.
  spec.bits_stored = 8;
  spec.pixel_representation = 0;
  spec.pixels = Words({0x0FF0, 0x0010, 0xF00F, 0x0AB0});
  img = DecodeDicom(Build(spec), {});
  ASSERT_TRUE(img.ok()) << img.status();
  EXPECT_EQ(img->pixels, (std::vector<float>{255, 1, 0, 0xAB}));
}

TEST(DicomDecode, RescaleAndFirstWindowAreApplied) {
  Spec spec;
  spec.extra =
      Ds(0x1050, "40\\-20 ") + Ds(0x1051, "400\\100 ") + Ds(0x1052, "-10 ") + Ds(0x1053, "0.5 ");
  spec.pixels = Words({0, 1, 2, 65535});
  absl::StatusOr<DecodedImage> img = DecodeDicom(Build(spec), {});
  ASSERT_TRUE(img.ok()) << img.status();
  EXPECT_EQ(img->pixels, (std::vector<float>{-10, -9.5f, -9, 32757.5f}));
  ASSERT_TRUE(img->file_window.has_value());
  EXPECT_EQ(img->file_window->center, 40);
  EXPECT_EQ(img->file_window->width, 400);
  absl::StatusOr<DicomInfo> info = ReadDicomInfo(Build(spec));
  ASSERT_TRUE(info.ok()) << info.status();
  ASSERT_EQ(info->windows.size(), 2u);
  EXPECT_EQ(info->windows[1].center, -20);
  EXPECT_EQ(info->windows[1].width, 100);

  spec.extra = Ds(0x1053, "abc ");
  EXPECT_TRUE(absl::IsInvalidArgument(DecodeDicom(Build(spec), {}).status()));
}

TEST(DicomDecode, OneBitFramesNeedNotBeByteAligned) {
  Spec spec;
  spec.rows = spec.cols = 3;  // 9 bits per frame
  spec.frames = "3 ";
  spec.bits_allocated = spec.bits_stored = 1;
  spec.high_bit = 0;
  // Frames 0..2 = bits 0-8, 9-17, 18-26 (LSB first): frame 1 is 1,0,1,0,...
  std::vector<int> bits(27, 0);
  for (int i = 9; i < 18; i += 2) bits[i] = 1;
  bits[26] = 1;
  std::string packed(4, '\0');
  for (int i = 0; i < 27; ++i) packed[i / 8] |= static_cast<char>(bits[i] << (i % 8));
  spec.pixels = packed;
  absl::StatusOr<DecodedImage> img = DecodeDicom(Build(spec), {}, 1);
  ASSERT_TRUE(img.ok()) << img.status();
  EXPECT_EQ(img->pixels, (std::vector<float>{1, 0, 1, 0, 1, 0, 1, 0, 1}));
  img = DecodeDicom(Build(spec), {}, 2);
  ASSERT_TRUE(img.ok()) << img.status();
  EXPECT_EQ(img->pixels, (std::vector<float>{0, 0, 0, 0, 0, 0, 0, 0, 1}));
}

TEST(DicomDecode, PaletteColorAndModalityLutSequenceAreRefused) {
  Spec spec;
  spec.photometric = "PALETTE COLOR ";
  spec.pixels = Words({0, 1, 2, 3});
  absl::Status status = DecodeDicom(Build(spec), {}).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_TRUE(absl::StrContains(status.message(), "PALETTE COLOR")) << status;

  spec = Spec();
  spec.pixels = Words({0, 1, 2, 3});
  // (0028,3000) SQ, undefined length, one empty item, sequence delimiter.
  spec.extra = std::string("\x28\x00\x00\x30SQ\0\0\xFF\xFF\xFF\xFF", 12) +
               std::string("\xFE\xFF\x00\xE0\0\0\0\0", 8) +
               std::string("\xFE\xFF\xDD\xE0\0\0\0\0", 8);
  status = DecodeDicom(Build(spec), {}).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_TRUE(absl::StrContains(status.message(), "Modality LUT")) << status;
  absl::StatusOr<DicomInfo> info = ReadDicomInfo(Build(spec));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(info->has_modality_lut_sequence);
}

// The allocation watch itself sees a decoder's large allocations.
TEST(DicomDecode, AllocationWatchSeesFrameBuffers) {
  const std::string bytes = ReadFileBytes(TestFile("image_dfl.dcm"));  // 512 x 512
  const size_t largest = LargestAllocation([&] { ASSERT_TRUE(DecodeDicom(bytes, {}).ok()); });
  EXPECT_GE(largest, size_t{512} * 512 * sizeof(float));
}

TEST(DicomDecode, HeaderBombIsRefusedByLimitsWithoutAllocating) {
  const std::string bomb = BuildImage(65535, 65535, "1000", std::string(16, '\0'));
  absl::Status status;
  const size_t largest = LargestAllocation([&] { status = DecodeDicom(bomb, {}).status(); });
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "limit")) << status;
  EXPECT_LT(largest, size_t{1} << 20);
  EXPECT_TRUE(absl::IsInvalidArgument(ReadDicomInfo(bomb).status()));

  // Each limit on its own.
  DecodeLimits limits;
  limits.max_frames = 10;
  status = DecodeDicom(BuildImage(2, 2, "11", std::string(88, '\0')), limits).status();
  EXPECT_TRUE(absl::StrContains(status.message(), "frames, the limit")) << status;
  limits = DecodeLimits();
  limits.max_pixels = 3;
  status = DecodeDicom(BuildImage(2, 2, "1 ", std::string(8, '\0')), limits).status();
  EXPECT_TRUE(absl::StrContains(status.message(), "pixels, the limit")) << status;
  limits = DecodeLimits();
  limits.max_bytes = 100;
  status = DecodeDicom(BuildImage(2, 2, "1 ", std::string(8, '\0')), limits).status();
  EXPECT_TRUE(absl::StrContains(status.message(), "bytes, the limit")) << status;
}

TEST(DicomDecode, PixelDataShorterThanHeaderClaimsIsRefused) {
  absl::Status status =
      DecodeDicom(BuildImage(64, 64, "2 ", std::string(64 * 64 * 2, '\0')), {}).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
}

// An element length far beyond the input must not be allocated.
TEST(DicomDecode, HugeElementLengthDoesNotAllocate) {
  std::string bytes = BuildImage(2, 2, "1 ", std::string(8, '\0'));
  bytes.resize(bytes.size() - 8);    // drop the pixel values ...
  bytes[bytes.size() - 1] = '\x7F';  // ... and claim 2 GiB of them
  absl::Status status;
  const size_t largest = LargestAllocation([&] { status = DecodeDicom(bytes, {}).status(); });
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_LT(largest, size_t{64} << 20);
}

// --- Attacker-controlled element lengths -------------------------------------
// A length field must never drive an allocation beyond the bytes that remain:
// DCMTK allocates a value before reading it, so each case below, with data
// following the lying element, used to allocate the declared length.

constexpr size_t kSmallAllocation = size_t{1} << 20;

std::string U32(uint32_t v) { return Us(v & 0xFFFF) + Us(v >> 16); }

// Explicit VR little endian header of a VR with a 32-bit length (OB, OW, SQ,
// UT, ...); `length` is written as given, whatever follows.
std::string LongHeader(uint16_t group, uint16_t element, const char* vr, uint32_t length) {
  return Us(group) + Us(element) + std::string(vr, 2) + std::string(2, '\0') + U32(length);
}

// Item, item delimiter and sequence delimiter tags (FFFE,E000/E00D/E0DD).
std::string ItemTag(uint16_t element, uint32_t length) {
  return Us(0xFFFE) + Us(element) + U32(length);
}

// Both entry points refuse `bytes` as InvalidArgument without a large allocation.
void ExpectRefusedWithoutLargeAllocation(const std::string& bytes, const std::string& what) {
  SCOPED_TRACE(what);
  absl::Status info_status, decode_status;
  const size_t largest = LargestAllocation([&] {
    info_status = ReadDicomInfo(bytes).status();
    decode_status = DecodeDicom(bytes, {}).status();
  });
  EXPECT_TRUE(absl::IsInvalidArgument(info_status)) << info_status;
  EXPECT_TRUE(absl::IsInvalidArgument(decode_status)) << decode_status;
  EXPECT_LT(largest, kSmallAllocation);
}

// The libFuzzer find: a deflated file whose inflated dataset holds an
// element claiming 3.57 GB.
TEST(DicomHostileLength, FuzzerReproducerIsRefusedWithoutAllocating) {
  const std::string bytes = ReadFileBytes(VLSM_TESTDATA "/fuzz/dicom_oom_element_length.dcm");
  ASSERT_EQ(bytes.size(), 6294u);
  ExpectRefusedWithoutLargeAllocation(bytes, "dicom_oom_element_length.dcm");
}

TEST(DicomHostileLength, PixelDataLongerThanInput) {
  for (uint32_t length : {0xFFFFFFF0u, 0x80000000u}) {
    Spec spec;
    spec.raw_pixel_element = LongHeader(0x7FE0, 0x0010, "OW", length) + Words({0, 1, 2, 3});
    ExpectRefusedWithoutLargeAllocation(Build(spec), absl::StrCat("Pixel Data length ", length));
  }
}

TEST(DicomHostileLength, StringLongerThanInput) {
  for (uint32_t length : {0xFFFFFFF0u, 0x80000000u}) {
    Spec spec;
    spec.extra = LongHeader(0x0040, 0xA160, "UT", length) + "text";  // Text Value
    spec.pixels = Words({0, 1, 2, 3});
    ExpectRefusedWithoutLargeAllocation(Build(spec), absl::StrCat("UT length ", length));
  }
}

TEST(DicomHostileLength, ElementInSequenceItemLongerThanInput) {
  const std::string lying = LongHeader(0x0040, 0xA160, "UT", 0xFFFFFFF0u) + "text";
  for (bool defined_lengths : {false, true}) {
    Spec spec;
    spec.pixels = Words({0, 1, 2, 3});
    // Content Sequence (0040,A730) > item > Text Value, then more items.
    const std::string trailer = ItemTag(0xE000, 0) + ItemTag(0xE000, 0);
    if (defined_lengths) {
      const std::string item = ItemTag(0xE000, static_cast<uint32_t>(lying.size())) + lying;
      spec.extra =
          LongHeader(0x0040, 0xA730, "SQ", static_cast<uint32_t>(item.size() + trailer.size())) +
          item + trailer;
    } else {
      spec.extra = LongHeader(0x0040, 0xA730, "SQ", 0xFFFFFFFFu) + ItemTag(0xE000, 0xFFFFFFFFu) +
                   lying + ItemTag(0xE00D, 0) + trailer + ItemTag(0xE0DD, 0);
    }
    ExpectRefusedWithoutLargeAllocation(Build(spec), defined_lengths ? "defined" : "undefined");
  }
}

TEST(DicomHostileLength, EncapsulatedFragmentLongerThanInput) {
  Spec spec;
  spec.transfer_syntax = "1.2.840.10008.1.2.5";  // RLE Lossless
  spec.raw_pixel_element = LongHeader(0x7FE0, 0x0010, "OB", 0xFFFFFFFFu) + ItemTag(0xE000, 0) +
                           ItemTag(0xE000, 0xFFFFFFF0u) + std::string(64, '\0') +
                           ItemTag(0xE0DD, 0);
  ExpectRefusedWithoutLargeAllocation(Build(spec), "RLE fragment");
}

TEST(DicomHostileLength, MetaInformationElementLongerThanInput) {
  std::string bytes = Build(Spec());
  const std::string meta_version = LongHeader(0x0002, 0x0001, "OB", 0xFFFFFFF0u) + Us(0x0100);
  bytes.insert(132, meta_version);  // after the preamble and "DICM"
  ExpectRefusedWithoutLargeAllocation(bytes, "(0002,0001)");
}

TEST(DicomHostileLength, ImplicitVrElementLongerThanInput) {
  // Implicit VR little endian: tag, 32-bit length, value.
  auto element = [](uint16_t group, uint16_t elem, uint32_t length, const std::string& value) {
    return Us(group) + Us(elem) + U32(length) + value;
  };
  std::string bytes(128, '\0');
  bytes += "DICM";
  AppendElement(bytes, 0x0002, 0x0010, "UI", std::string("1.2.840.10008.1.2", 18));
  bytes += element(0x0008, 0x0060, 0xFFFFFFF0u, "CT") + element(0x0028, 0x0010, 2, Us(2)) +
           element(0x0028, 0x0011, 2, Us(2)) + element(0x7FE0, 0x0010, 8, Words({0, 1, 2, 3}));
  ExpectRefusedWithoutLargeAllocation(bytes, "implicit VR Modality");
}

// Values past DCMTK's eager read limit (4 KiB) are loaded on first access,
// and read the same.
TEST(DicomHostileLength, LargeValuesWithinTheInputStillDecode) {
  std::vector<std::string> centers, widths;
  for (int i = 0; i < 1000; ++i) {
    centers.push_back(absl::StrCat(1000 + i));
    widths.push_back(absl::StrCat(2000 + i));
  }
  Spec spec;
  spec.rows = spec.cols = 64;
  // 4999 characters each, padded to an even length.
  spec.extra = Ds(0x1050, absl::StrJoin(centers, "\\") + " ") +
               Ds(0x1051, absl::StrJoin(widths, "\\") + " ") +
               LongHeader(0x0040, 0xA160, "UT", 10000) + std::string(10000, 'x');
  for (int i = 0; i < 64 * 64; ++i) spec.pixels += Us(static_cast<uint16_t>(i));
  const std::string bytes = Build(spec);

  absl::StatusOr<DicomInfo> info = ReadDicomInfo(bytes);
  ASSERT_TRUE(info.ok()) << info.status();
  ASSERT_EQ(info->windows.size(), 1000u);
  EXPECT_EQ(info->windows[999].center, 1999);
  EXPECT_EQ(info->windows[999].width, 2999);
  absl::StatusOr<DecodedImage> img = DecodeDicom(bytes, {});
  ASSERT_TRUE(img.ok()) << img.status();
  ASSERT_EQ(img->pixels.size(), 64u * 64u);
  for (int i = 0; i < 64 * 64; ++i) ASSERT_EQ(img->pixels[i], i) << i;
}

// A JPEG 2000 codestream claiming a far larger image than the DICOM header.
TEST(DicomDecode, CompressedFrameLargerThanHeaderIsRefusedWithoutAllocating) {
  const std::string bytes = ReadFileBytes(TestFile("JPEG2000-embedded-sequence-delimiter.dcm"));
  absl::Status status;
  const size_t largest = LargestAllocation([&] { status = DecodeDicom(bytes, {}).status(); });
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_LT(largest, size_t{64} << 20);
}

TEST(DicomDecode, DeflatedDatasetBeyondByteLimitIsRefused) {
  const std::string bytes = ReadFileBytes(TestFile("image_dfl.dcm"));
  ASSERT_TRUE(DecodeDicom(bytes, {}).ok());
  DecodeLimits limits;
  limits.max_bytes = static_cast<int64_t>(bytes.size()) + 1000;  // input fits, inflated doesn't
  absl::Status status = DecodeDicom(bytes, limits).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "inflates beyond")) << status;
}

TEST(DicomDecode, ConcurrentDecodesAgree) {
  const std::vector<std::string> names = {"SC_rgb_jpeg_dcmtk.dcm",         "MR_small_RLE.dcm",
                                          "MR_small_jp2klossless.dcm",     "JPGExtended.dcm",
                                          "MR_small_jpeg_ls_lossless.dcm", "image_dfl.dcm"};
  std::vector<std::string> files;
  std::vector<std::vector<float>> want;
  for (const std::string& n : names) {
    files.push_back(ReadFileBytes(TestFile(n)));
    absl::StatusOr<DecodedImage> img = DecodeDicom(files.back(), {});
    ASSERT_TRUE(img.ok()) << n << ": " << img.status();
    want.push_back(img->pixels);
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 12; ++i) {
        const size_t k = (t + i) % files.size();
        absl::StatusOr<DecodedImage> img = DecodeDicom(files[k], {});
        if (!img.ok() || img->pixels != want[k]) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace vlsm
