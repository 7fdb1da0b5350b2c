#include "model/dicom_j2k.h"

#include <openjpeg.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"

namespace vlsm::dicom_internal {
namespace {

// The encoded bytes as an OpenJPEG input stream (read/skip/seek callbacks).
struct MemorySource {
  const uint8_t* data;
  OPJ_SIZE_T size;
  OPJ_SIZE_T pos;
};

OPJ_SIZE_T Read(void* buffer, OPJ_SIZE_T n, void* user) {
  auto* src = static_cast<MemorySource*>(user);
  if (src->pos >= src->size) return static_cast<OPJ_SIZE_T>(-1);
  const OPJ_SIZE_T take = std::min(n, src->size - src->pos);
  std::memcpy(buffer, src->data + src->pos, take);
  src->pos += take;
  return take;
}

OPJ_OFF_T Skip(OPJ_OFF_T n, void* user) {
  auto* src = static_cast<MemorySource*>(user);
  if (n < 0 ? static_cast<OPJ_SIZE_T>(-n) > src->pos
            : static_cast<OPJ_SIZE_T>(n) > src->size - src->pos) {
    return -1;
  }
  src->pos += n;
  return n;
}

OPJ_BOOL Seek(OPJ_OFF_T pos, void* user) {
  auto* src = static_cast<MemorySource*>(user);
  if (pos < 0 || static_cast<OPJ_SIZE_T>(pos) > src->size) return OPJ_FALSE;
  src->pos = static_cast<OPJ_SIZE_T>(pos);
  return OPJ_TRUE;
}

void KeepError(const char* msg, void* client) {
  auto* out = static_cast<std::string*>(client);
  if (out->empty()) *out = msg;
  while (!out->empty() && out->back() == '\n') out->pop_back();
}
void Ignore(const char*, void*) {}

struct CodecDeleter {
  void operator()(opj_codec_t* c) const { opj_destroy_codec(c); }
};
struct StreamDeleter {
  void operator()(opj_stream_t* s) const { opj_stream_destroy(s); }
};
struct ImageDeleter {
  void operator()(opj_image_t* i) const { opj_image_destroy(i); }
};

constexpr uint8_t kJp2Signature[] = {0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50,
                                     0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A};
constexpr uint8_t kJ2kSignature[] = {0xFF, 0x4F, 0xFF, 0x51};

bool StartsWith(absl::string_view data, const uint8_t* sig, size_t n) {
  return data.size() >= n && std::memcmp(data.data(), sig, n) == 0;
}

}  // namespace

absl::StatusOr<J2kFrame> DecodeJ2kFrame(absl::string_view data, int64_t rows, int64_t cols,
                                        int components) {
  OPJ_CODEC_FORMAT format;
  if (StartsWith(data, kJp2Signature, sizeof(kJp2Signature))) {
    format = OPJ_CODEC_JP2;
  } else if (StartsWith(data, kJ2kSignature, sizeof(kJ2kSignature))) {
    format = OPJ_CODEC_J2K;
  } else {
    return absl::InvalidArgumentError("JPEG 2000 frame is neither a J2K codestream nor a JP2 file");
  }
  std::unique_ptr<opj_codec_t, CodecDeleter> codec(opj_create_decompress(format));
  if (codec == nullptr) return absl::InternalError("opj_create_decompress failed");
  std::string error;
  opj_set_error_handler(codec.get(), KeepError, &error);
  opj_set_warning_handler(codec.get(), Ignore, nullptr);
  opj_set_info_handler(codec.get(), Ignore, nullptr);
  opj_dparameters_t params;
  opj_set_default_decoder_parameters(&params);
  if (!opj_setup_decoder(codec.get(), &params)) {
    return absl::InternalError("opj_setup_decoder failed");
  }

  MemorySource source{reinterpret_cast<const uint8_t*>(data.data()), data.size(), 0};
  std::unique_ptr<opj_stream_t, StreamDeleter> stream(opj_stream_create(64 * 1024, OPJ_TRUE));
  if (stream == nullptr) return absl::InternalError("opj_stream_create failed");
  opj_stream_set_user_data(stream.get(), &source, nullptr);
  opj_stream_set_user_data_length(stream.get(), data.size());
  opj_stream_set_read_function(stream.get(), Read);
  opj_stream_set_skip_function(stream.get(), Skip);
  opj_stream_set_seek_function(stream.get(), Seek);

  auto fail = [&error](absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat("JPEG 2000 ", what, error.empty() ? "" : ": ", error));
  };
  opj_image_t* raw_image = nullptr;
  if (!opj_read_header(stream.get(), codec.get(), &raw_image)) {
    std::unique_ptr<opj_image_t, ImageDeleter> drop(raw_image);
    return fail("header unreadable");
  }
  std::unique_ptr<opj_image_t, ImageDeleter> image(raw_image);

  const int64_t width = static_cast<int64_t>(image->x1) - image->x0;
  const int64_t height = static_cast<int64_t>(image->y1) - image->y0;
  if (width != cols || height != rows) {
    return absl::InvalidArgumentError(absl::StrCat("JPEG 2000 image is ", width, "x", height,
                                                   ", the DICOM header says ", cols, "x", rows));
  }
  if (static_cast<int>(image->numcomps) != components) {
    return absl::InvalidArgumentError(absl::StrCat(
        "JPEG 2000 image has ", image->numcomps, " components, Samples per Pixel is ", components));
  }
  for (int c = 0; c < components; ++c) {
    const opj_image_comp_t& comp = image->comps[c];
    if (comp.dx != 1 || comp.dy != 1) {
      return absl::InvalidArgumentError("JPEG 2000 subsampled components are not supported");
    }
    if (comp.prec < 1 || comp.prec > 32 || comp.prec != image->comps[0].prec ||
        comp.sgnd != image->comps[0].sgnd) {
      return absl::InvalidArgumentError("JPEG 2000 components differ in precision or sign");
    }
  }

  if (!opj_decode(codec.get(), stream.get(), image.get())) return fail("decoding failed");
  if (!opj_end_decompress(codec.get(), stream.get())) return fail("decoding failed at the end");

  J2kFrame frame;
  frame.rows = rows;
  frame.cols = cols;
  frame.components = components;
  frame.precision = static_cast<int>(image->comps[0].prec);
  frame.is_signed = image->comps[0].sgnd != 0;
  const int64_t pixels = rows * cols;
  for (int c = 0; c < components; ++c) {
    const opj_image_comp_t& comp = image->comps[c];
    if (comp.data == nullptr || static_cast<int64_t>(comp.w) != cols ||
        static_cast<int64_t>(comp.h) != rows) {
      return absl::InvalidArgumentError("JPEG 2000 decoder returned an incomplete component");
    }
  }
  frame.samples.resize(pixels * components);
  for (int64_t i = 0; i < pixels; ++i) {
    for (int c = 0; c < components; ++c) {
      frame.samples[i * components + c] = image->comps[c].data[i];
    }
  }
  return frame;
}

}  // namespace vlsm::dicom_internal
