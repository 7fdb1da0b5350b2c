#include "model/dicom_decode.h"

// DCMTK first: its config header must precede the system headers it wraps.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dccodec.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "model/dicom_j2k.h"
#include "model/dicom_parse.h"
#include "model/dicom_pixels.h"

namespace vlsm {
namespace {

using dicom_internal::ParsedDicom;
using dicom_internal::ParseDicom;
using dicom_internal::Rescale;
using dicom_internal::SampleLayout;

absl::Status Invalid(absl::string_view what) { return absl::InvalidArgumentError(what); }

// ---------------------------------------------------------------------------
// Header attributes.

std::string GetString(DcmItem& item, const DcmTagKey& tag) {
  OFString value;
  if (item.findAndGetOFStringArray(tag, value).bad()) return "";
  return std::string(absl::StripAsciiWhitespace(value.c_str()));
}

// All values of a DS/IS element; nullopt when absent, empty or malformed.
std::optional<std::vector<double>> GetNumbers(DcmItem& item, const DcmTagKey& tag) {
  DcmElement* element = nullptr;
  if (item.findAndGetElement(tag, element).bad() || element == nullptr) return std::nullopt;
  const unsigned long vm = element->getVM();
  if (vm == 0 || element->getLength() == 0) return std::nullopt;
  std::vector<double> values;
  for (unsigned long i = 0; i < vm; ++i) {
    OFString text;
    double v = 0;
    if (element->getOFString(text, i).bad() || !absl::SimpleAtod(text.c_str(), &v)) {
      return std::nullopt;
    }
    values.push_back(v);
  }
  return values;
}

template <size_t N>
std::optional<std::array<double, N>> GetFixed(DcmItem& item, const DcmTagKey& tag) {
  std::optional<std::vector<double>> values = GetNumbers(item, tag);
  if (!values || values->size() != N) return std::nullopt;
  std::array<double, N> out;
  std::copy(values->begin(), values->end(), out.begin());
  return out;
}

// A required US attribute.
absl::Status GetUs(DcmItem& item, const DcmTagKey& tag, const char* name, int* out) {
  Uint16 value = 0;
  if (item.findAndGetUint16(tag, value).bad()) {
    return Invalid(absl::StrCat("missing or invalid ", name));
  }
  *out = value;
  return absl::OkStatus();
}

// A DS attribute that changes pixel values: malformed is an error.
absl::Status GetValueMapping(DcmItem& item, const DcmTagKey& tag, const char* name,
                             std::optional<double>* out) {
  if (!item.tagExistsWithValue(tag)) return absl::OkStatus();
  std::optional<std::vector<double>> v = GetNumbers(item, tag);
  if (!v || v->size() != 1) return Invalid(absl::StrCat("malformed ", name));
  *out = (*v)[0];
  return absl::OkStatus();
}

absl::StatusOr<DicomInfo> ExtractInfo(const ParsedDicom& parsed) {
  DcmDataset& ds = *parsed.dataset;
  if (!ds.tagExists(DCM_PixelData)) {
    if (ds.tagExists(DCM_FloatPixelData) || ds.tagExists(DCM_DoubleFloatPixelData)) {
      return Invalid("Float/Double Float Pixel Data is not supported");
    }
    return Invalid("no Pixel Data in the DICOM dataset");
  }
  DicomInfo info;
  info.transfer_syntax_uid = parsed.ts_uid;
  info.encapsulated = DcmXfer(parsed.xfer).isEncapsulated();

  int rows = 0, cols = 0;
  absl::Status st = GetUs(ds, DCM_Rows, "Rows", &rows);
  if (st.ok()) st = GetUs(ds, DCM_Columns, "Columns", &cols);
  if (st.ok()) st = GetUs(ds, DCM_SamplesPerPixel, "Samples per Pixel", &info.samples_per_pixel);
  if (st.ok()) st = GetUs(ds, DCM_BitsAllocated, "Bits Allocated", &info.bits_allocated);
  if (!st.ok()) return st;
  info.rows = rows;
  info.cols = cols;
  // Optional in practice (pydicom requires them; their defaults are safe).
  int value = 0;
  info.bits_stored = GetUs(ds, DCM_BitsStored, "", &value).ok() ? value : info.bits_allocated;
  info.high_bit = GetUs(ds, DCM_HighBit, "", &value).ok() ? value : info.bits_stored - 1;
  info.is_signed = GetUs(ds, DCM_PixelRepresentation, "", &value).ok() && value == 1;
  info.planar_configuration = GetUs(ds, DCM_PlanarConfiguration, "", &value).ok() ? value : 0;
  info.photometric = GetString(ds, DCM_PhotometricInterpretation);
  if (info.photometric.empty()) return Invalid("missing Photometric Interpretation");

  const std::string frames = GetString(ds, DCM_NumberOfFrames);
  if (!frames.empty()) {
    int64_t n = 0;
    if (!absl::SimpleAtoi(frames, &n) || n < 0) {
      return Invalid(absl::StrCat("invalid Number of Frames '", frames, "'"));
    }
    info.frames = std::max<int64_t>(n, 1);
  }

  info.modality = GetString(ds, DCM_Modality);
  info.sop_class_uid = GetString(ds, DCM_SOPClassUID);
  info.sop_instance_uid = GetString(ds, DCM_SOPInstanceUID);
  info.study_instance_uid = GetString(ds, DCM_StudyInstanceUID);
  info.series_instance_uid = GetString(ds, DCM_SeriesInstanceUID);
  info.frame_of_reference_uid = GetString(ds, DCM_FrameOfReferenceUID);
  info.image_position_patient = GetFixed<3>(ds, DCM_ImagePositionPatient);
  info.image_orientation_patient = GetFixed<6>(ds, DCM_ImageOrientationPatient);
  info.pixel_spacing = GetFixed<2>(ds, DCM_PixelSpacing);
  if (auto t = GetNumbers(ds, DCM_SliceThickness); t && t->size() == 1) {
    info.slice_thickness = (*t)[0];
  }
  st = GetValueMapping(ds, DCM_RescaleSlope, "Rescale Slope", &info.rescale_slope);
  if (st.ok()) {
    st = GetValueMapping(ds, DCM_RescaleIntercept, "Rescale Intercept", &info.rescale_intercept);
  }
  if (!st.ok()) return st;
  info.has_modality_lut_sequence = ds.tagExists(DCM_ModalityLUTSequence);

  std::optional<std::vector<double>> centers = GetNumbers(ds, DCM_WindowCenter);
  std::optional<std::vector<double>> widths = GetNumbers(ds, DCM_WindowWidth);
  if (centers && widths) {
    for (size_t i = 0; i < std::min(centers->size(), widths->size()); ++i) {
      info.windows.push_back(Window{(*centers)[i], (*widths)[i]});
    }
  }
  return info;
}

absl::Status CheckLimits(const DicomInfo& info, const DecodeLimits& limits) {
  if (info.rows <= 0 || info.cols <= 0) {
    return Invalid(absl::StrCat("empty image: ", info.cols, "x", info.rows));
  }
  if (info.rows * info.cols > limits.max_pixels) {
    return Invalid(absl::StrCat("image is ", info.cols, "x", info.rows, " pixels, the limit is ",
                                limits.max_pixels));
  }
  if (info.frames > limits.max_frames) {
    return Invalid(
        absl::StrCat("image has ", info.frames, " frames, the limit is ", limits.max_frames));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Pixel decoding.

enum class Codec { kNative, kDcmtkJpeg, kDcmtkJpegLs, kDcmtkRle, kOpenJpeg };

absl::StatusOr<Codec> CodecFor(E_TransferSyntax xfer, const std::string& uid) {
  switch (xfer) {
    case EXS_LittleEndianImplicit:
    case EXS_LittleEndianExplicit:
    case EXS_BigEndianExplicit:
      return Codec::kNative;
    case EXS_JPEGProcess1:
    case EXS_JPEGProcess2_4:
    case EXS_JPEGProcess6_8:
    case EXS_JPEGProcess10_12:
    case EXS_JPEGProcess14:
    case EXS_JPEGProcess14SV1:
      return Codec::kDcmtkJpeg;
    case EXS_JPEGLSLossless:
    case EXS_JPEGLSLossy:
      return Codec::kDcmtkJpegLs;
    case EXS_RLELossless:
      return Codec::kDcmtkRle;
    case EXS_JPEG2000LosslessOnly:
    case EXS_JPEG2000:
      return Codec::kOpenJpeg;
    default:
      return Invalid(absl::StrCat("unsupported transfer syntax ", uid, " (",
                                  DcmXfer(xfer).getXferName(), ")"));
  }
}

bool IsYbrFull(const std::string& pi) { return pi == "YBR_FULL" || pi == "YBR_FULL_422"; }

// What DecodeDicom accepts beyond the limits.
absl::Status CheckSupported(const DicomInfo& info, Codec codec) {
  const std::string& pi = info.photometric;
  const bool mono = pi == "MONOCHROME1" || pi == "MONOCHROME2";
  const bool j2k_color = pi == "YBR_RCT" || pi == "YBR_ICT";
  if (pi == "PALETTE COLOR") return Invalid("PALETTE COLOR images are not supported");
  if (!mono && pi != "RGB" && !IsYbrFull(pi) && !(j2k_color && codec == Codec::kOpenJpeg)) {
    return Invalid(absl::StrCat("unsupported Photometric Interpretation ", pi));
  }
  if (info.samples_per_pixel != (mono ? 1 : 3)) {
    return Invalid(absl::StrCat(pi, " with ", info.samples_per_pixel, " samples per pixel"));
  }
  const int ba = info.bits_allocated;
  if (ba != 1 && ba != 8 && ba != 16 && ba != 32) {
    return Invalid(absl::StrCat("unsupported Bits Allocated ", ba));
  }
  if (ba == 1 && (codec != Codec::kNative || !mono)) {
    return Invalid("Bits Allocated 1 is supported for uncompressed monochrome data only");
  }
  if (info.bits_stored < 1 || info.bits_stored > ba || info.high_bit < info.bits_stored - 1 ||
      info.high_bit >= ba) {
    return Invalid(absl::StrCat("inconsistent Bits Allocated/Stored/High Bit ", ba, "/",
                                info.bits_stored, "/", info.high_bit));
  }
  if (pi == "YBR_FULL_422" && codec == Codec::kNative && ba != 8) {
    return Invalid("uncompressed YBR_FULL_422 needs Bits Allocated 8");
  }
  if (mono && info.has_modality_lut_sequence) {
    return Invalid("Modality LUT Sequence is not supported (only linear Rescale Slope/Intercept)");
  }
  return absl::OkStatus();
}

DcmPixelData* FindPixelData(DcmDataset& ds) {
  DcmElement* element = nullptr;
  if (ds.findAndGetElement(DCM_PixelData, element).bad()) return nullptr;
  return dynamic_cast<DcmPixelData*>(element);
}

SampleLayout LayoutOf(const DicomInfo& info) {
  SampleLayout layout;
  layout.rows = info.rows;
  layout.cols = info.cols;
  layout.samples = info.samples_per_pixel;
  layout.bits_allocated = info.bits_allocated;
  layout.bits_stored = info.bits_stored;
  layout.high_bit = info.high_bit;
  layout.is_signed = info.is_signed;
  layout.planar = info.samples_per_pixel > 1 && info.planar_configuration == 1;
  return layout;
}

// Reverses the byte order of each `width`-byte sample.
void SwapBytes(std::string& data, int width) {
  for (size_t i = 0; i + width <= data.size(); i += width) {
    std::reverse(data.begin() + i, data.begin() + i + width);
  }
}

// Copies `size` bytes at `offset` of the (native) Pixel Data value as stored
// in the file, i.e. without DCMTK's VR-based byte swapping.
absl::StatusOr<std::string> NativeBytes(DcmPixelData& pixels, E_ByteOrder file_order,
                                        int64_t offset, int64_t size) {
  std::string out(size, '\0');
  const OFCondition cond = pixels.getPartialValue(out.data(), static_cast<Uint32>(offset),
                                                  static_cast<Uint32>(size), nullptr, file_order);
  if (cond.bad()) return Invalid(absl::StrCat("Pixel Data unreadable: ", cond.text()));
  return out;
}

absl::Status DecodeNative(DcmPixelData& pixels, const ParsedDicom& parsed, const DicomInfo& info,
                          int64_t frame, const Rescale& rescale, DecodedImage& out) {
  const int64_t pixel_count = info.rows * info.cols;
  const int64_t length = pixels.getLength();
  const E_ByteOrder order = DcmXfer(parsed.xfer).getByteOrder();
  if (info.bits_allocated == 1) {
    const int64_t first_bit = frame * pixel_count;
    if ((info.frames * pixel_count + 7) / 8 > length) {
      return Invalid(absl::StrCat("Pixel Data holds ", length, " bytes, ", info.frames,
                                  " 1-bit frames need ", (info.frames * pixel_count + 7) / 8));
    }
    const int64_t first_byte = first_bit / 8;
    const int64_t last_byte = (first_bit + pixel_count - 1) / 8;
    absl::StatusOr<std::string> bytes =
        NativeBytes(pixels, order, first_byte, last_byte - first_byte + 1);
    if (!bytes.ok()) return bytes.status();
    return dicom_internal::UnpackBits(*bytes, first_bit % 8, pixel_count, out.pixels.data());
  }

  const bool ybr422 = info.photometric == "YBR_FULL_422";
  const int bytes_per_sample = info.bits_allocated / 8;
  const int64_t frame_bytes =
      ybr422 ? pixel_count * 2 : pixel_count * info.samples_per_pixel * bytes_per_sample;
  if (info.frames * frame_bytes > length) {
    return Invalid(absl::StrCat("Pixel Data holds ", length, " bytes, ", info.frames,
                                " frames need ", info.frames * frame_bytes));
  }
  absl::StatusOr<std::string> bytes = NativeBytes(pixels, order, frame * frame_bytes, frame_bytes);
  if (!bytes.ok()) return bytes.status();
  // 8-bit samples are taken in stored order even from big-endian OW (as pydicom does).
  if (order == EBO_BigEndian && bytes_per_sample > 1) SwapBytes(*bytes, bytes_per_sample);
  if (ybr422) {
    std::string full(pixel_count * 3, '\0');
    absl::Status st =
        dicom_internal::ExpandYbr422(*bytes, pixel_count, reinterpret_cast<uint8_t*>(full.data()));
    if (!st.ok()) return st;
    *bytes = std::move(full);
  }
  return dicom_internal::ConvertFrame(*bytes, LayoutOf(info), rescale, out.pixels.data());
}

// The encapsulated fragments [first, last) that hold `frame`.
absl::StatusOr<std::pair<Uint32, Uint32>> FrameFragments(DcmPixelSequence& seq,
                                                         const DicomInfo& info, int64_t frame) {
  const Uint32 count = static_cast<Uint32>(seq.card());
  if (count < 2) return Invalid("encapsulated Pixel Data has no fragments");
  if (info.frames == 1) return std::make_pair(Uint32{1}, count);
  Uint32 first = 0, next = 0;
  if (DcmCodec::determineStartFragment(static_cast<Uint32>(frame), static_cast<Sint32>(info.frames),
                                       &seq, first)
          .bad() ||
      first < 1 || first >= count) {
    return Invalid(absl::StrCat("cannot locate the fragments of frame ", frame));
  }
  if (frame + 1 == info.frames) return std::make_pair(first, count);
  if (DcmCodec::determineStartFragment(static_cast<Uint32>(frame + 1),
                                       static_cast<Sint32>(info.frames), &seq, next)
          .bad() ||
      next <= first || next > count) {
    return Invalid(absl::StrCat("cannot locate the fragments of frame ", frame + 1));
  }
  return std::make_pair(first, next);
}

absl::StatusOr<std::string> FragmentBytes(DcmPixelSequence& seq, Uint32 first, Uint32 last) {
  std::string out;
  for (Uint32 i = first; i < last; ++i) {
    DcmPixelItem* item = nullptr;
    Uint8* data = nullptr;
    if (seq.getItem(item, i).bad() || item == nullptr) return Invalid("missing fragment");
    const Uint32 length = item->getLength();
    if (length == 0) continue;
    if (item->getUint8Array(data).bad() || data == nullptr) return Invalid("empty fragment");
    out.append(reinterpret_cast<const char*>(data), length);
  }
  return out;
}

// Checks a JPEG / JPEG-LS frame's SOF header against the DICOM header before
// DCMTK decodes it (so the codec never sizes buffers from a hostile header).
absl::Status CheckJpegHeader(absl::string_view data, const DicomInfo& info) {
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  const size_t n = data.size();
  if (n < 4 || p[0] != 0xFF || p[1] != 0xD8) return Invalid("JPEG frame does not start with SOI");
  size_t pos = 2;
  while (pos + 4 <= n) {
    if (p[pos] != 0xFF) return Invalid("JPEG frame: marker expected");
    const uint8_t marker = p[pos + 1];
    if (marker == 0xFF) {  // fill byte
      ++pos;
      continue;
    }
    const size_t seg = (static_cast<size_t>(p[pos + 2]) << 8) | p[pos + 3];
    const bool sof =
        (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) ||
        marker == 0xF7;  // JPEG-LS SOF55
    if (sof) {
      if (pos + 10 > n || seg < 8) return Invalid("JPEG frame: truncated SOF");
      const int precision = p[pos + 4];
      const int64_t height = (p[pos + 5] << 8) | p[pos + 6];
      const int64_t width = (p[pos + 7] << 8) | p[pos + 8];
      const int components = p[pos + 9];
      if (width != info.cols || height != info.rows || components != info.samples_per_pixel) {
        return Invalid(absl::StrCat("JPEG frame is ", width, "x", height, "x", components,
                                    ", the DICOM header says ", info.cols, "x", info.rows, "x",
                                    info.samples_per_pixel));
      }
      // DCMTK returns 8-bit samples for precision <= 8, 16-bit ones otherwise.
      if (precision < 2 || precision > info.bits_allocated || info.bits_allocated > 16 ||
          (precision <= 8) != (info.bits_allocated == 8)) {
        return Invalid(absl::StrCat("JPEG precision ", precision, " does not fit Bits Allocated ",
                                    info.bits_allocated));
      }
      return absl::OkStatus();
    }
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
      pos += 2;
      continue;
    }
    if (marker == 0xDA || marker == 0xD9) break;  // scan data before any SOF
    pos += 2 + seg;
  }
  return Invalid("JPEG frame has no SOF header");
}

// Validates the RLE header (PS3.5 G.5) that DCMTK's decoder trusts.
absl::Status CheckRleHeader(absl::string_view data, const DicomInfo& info) {
  if (data.size() < 64) return Invalid("RLE frame shorter than its 64-byte header");
  auto u32 = [&data](size_t i) {
    const auto* p = reinterpret_cast<const uint8_t*>(data.data()) + 4 * i;
    return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
           (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
  };
  const uint32_t segments = u32(0);
  if (segments != static_cast<uint32_t>(info.bits_allocated / 8 * info.samples_per_pixel)) {
    return Invalid(absl::StrCat("RLE frame has ", segments, " segments, expected ",
                                info.bits_allocated / 8 * info.samples_per_pixel));
  }
  uint32_t previous = 63;
  for (uint32_t i = 1; i <= segments; ++i) {
    const uint32_t offset = u32(i);
    if (offset <= previous || offset >= data.size()) {
      return Invalid(absl::StrCat("RLE segment offset ", offset, " out of order or range"));
    }
    previous = offset;
  }
  return absl::OkStatus();
}

absl::Status DecodeJ2k(const std::string& data, const DicomInfo& info, const Rescale& rescale,
                       DecodedImage& out) {
  absl::StatusOr<dicom_internal::J2kFrame> frame =
      dicom_internal::DecodeJ2kFrame(data, info.rows, info.cols, info.samples_per_pixel);
  if (!frame.ok()) return frame.status();
  if (frame->precision > info.bits_allocated) {
    return Invalid(absl::StrCat("JPEG 2000 precision ", frame->precision,
                                " exceeds Bits Allocated ", info.bits_allocated));
  }
  // Unsigned codestream, signed Pixel Representation: the samples are two's
  // complement values of the codestream's precision (pydicom's correction).
  const bool reinterpret = info.is_signed && !frame->is_signed;
  const int64_t half = int64_t{1} << (frame->precision - 1);
  const bool identity = rescale.identity();
  for (size_t i = 0; i < frame->samples.size(); ++i) {
    int64_t sample = frame->samples[i];
    if (reinterpret && sample >= half) sample -= 2 * half;
    const double v = static_cast<double>(sample);
    out.pixels[i] = static_cast<float>(identity ? v : v * rescale.slope + rescale.intercept);
  }
  return absl::OkStatus();
}

absl::Status DecodeEncapsulated(DcmPixelData& pixels, const ParsedDicom& parsed,
                                const DicomInfo& info, Codec codec, int64_t frame,
                                const Rescale& rescale, DecodedImage& out, bool* is_rgb) {
  DcmPixelSequence* seq = nullptr;
  if (pixels.getEncapsulatedRepresentation(parsed.xfer, nullptr, seq).bad() || seq == nullptr) {
    return Invalid("Pixel Data is not encapsulated as the transfer syntax requires");
  }
  absl::StatusOr<std::pair<Uint32, Uint32>> range = FrameFragments(*seq, info, frame);
  if (!range.ok()) return range.status();
  if (codec == Codec::kOpenJpeg) {
    absl::StatusOr<std::string> data = FragmentBytes(*seq, range->first, range->second);
    if (!data.ok()) return data.status();
    // OpenJPEG undoes the codestream's colour transform (YBR_RCT/ICT); YBR_FULL
    // data without one stays YBR_FULL, as the Photometric Interpretation says.
    return DecodeJ2k(*data, info, rescale, out);
  }
  // DCMTK needs only the first fragment to check the header.
  absl::StatusOr<std::string> head = FragmentBytes(*seq, range->first, range->first + 1);
  if (!head.ok()) return head.status();
  absl::Status st =
      codec == Codec::kDcmtkRle ? CheckRleHeader(*head, info) : CheckJpegHeader(*head, info);
  if (!st.ok()) return st;

  const int64_t frame_bytes =
      info.rows * info.cols * info.samples_per_pixel * (info.bits_allocated / 8);
  std::string buffer(frame_bytes + (frame_bytes & 1), '\0');  // DCMTK wants an even size
  Uint32 start_fragment = range->first;
  OFString color_model;
  const OFCondition cond =
      pixels.getUncompressedFrame(parsed.dataset.get(), static_cast<Uint32>(frame), start_fragment,
                                  buffer.data(), static_cast<Uint32>(buffer.size()), color_model);
  if (cond.bad()) return Invalid(absl::StrCat("frame decompression failed: ", cond.text()));
  *is_rgb = color_model == "RGB";
  return dicom_internal::ConvertFrame(buffer, LayoutOf(info), rescale, out.pixels.data());
}

}  // namespace

absl::StatusOr<DicomInfo> ReadDicomInfo(absl::string_view bytes, const DecodeLimits& limits) {
  absl::StatusOr<ParsedDicom> parsed = ParseDicom(bytes, limits);
  if (!parsed.ok()) return parsed.status();
  absl::StatusOr<DicomInfo> info = ExtractInfo(*parsed);
  if (!info.ok()) return info.status();
  absl::Status st = CheckLimits(*info, limits);
  if (!st.ok()) return st;
  return info;
}

absl::StatusOr<DecodedImage> DecodeDicom(absl::string_view bytes, const DecodeLimits& limits,
                                         int64_t frame) {
  absl::StatusOr<ParsedDicom> parsed = ParseDicom(bytes, limits);
  if (!parsed.ok()) return parsed.status();
  absl::StatusOr<DicomInfo> info = ExtractInfo(*parsed);
  if (!info.ok()) return info.status();
  absl::Status st = CheckLimits(*info, limits);
  if (!st.ok()) return st;
  absl::StatusOr<Codec> codec = CodecFor(parsed->xfer, parsed->ts_uid);
  if (!codec.ok()) return codec.status();
  st = CheckSupported(*info, *codec);
  if (!st.ok()) return st;
  if (frame < 0 || frame >= info->frames) {
    return Invalid(
        absl::StrCat("frame ", frame, " out of range: the image has ", info->frames, " frame(s)"));
  }
  DcmPixelData* pixels = FindPixelData(*parsed->dataset);
  if (pixels == nullptr) return Invalid("Pixel Data element unreadable");

  const bool mono = info->samples_per_pixel == 1;
  Rescale rescale;
  if (mono) {
    rescale.slope = info->rescale_slope.value_or(1.0);
    rescale.intercept = info->rescale_intercept.value_or(0.0);
  }

  DecodedImage out;
  out.height = info->rows;
  out.width = info->cols;
  out.channels = info->samples_per_pixel;
  out.bits_stored = info->bits_stored;
  out.monochrome1 = info->photometric == "MONOCHROME1";
  if (!info->windows.empty()) out.file_window = info->windows.front();
  out.format = "dicom";
  out.pixels.resize(info->rows * info->cols * info->samples_per_pixel);

  bool is_rgb = !IsYbrFull(info->photometric);
  if (*codec == Codec::kNative) {
    st = DecodeNative(*pixels, *parsed, *info, frame, rescale, out);
  } else {
    bool decoded_rgb = false;
    st = DecodeEncapsulated(*pixels, *parsed, *info, *codec, frame, rescale, out, &decoded_rgb);
    is_rgb = is_rgb || decoded_rgb;
  }
  if (!st.ok()) return st;
  if (!mono && !is_rgb) dicom_internal::YbrFullToRgb(out.pixels.data(), info->rows * info->cols);
  return out;
}

}  // namespace vlsm
