// DICOM (Part 10 file or bare dataset) decoding from memory: the header facts
// a PACS bridge needs (DicomInfo) and one frame's pixels as modality values
// (DecodedImage).
//
// Parsing is DCMTK's (dcmdata) on an in-memory stream (model/dicom_parse.h);
// compressed Pixel Data is decoded one frame at a time with DCMTK's JPEG
// (baseline, extended, spectral/progressive, lossless), JPEG-LS and RLE
// codecs, and with OpenJPEG for JPEG 2000 (J2K codestream or JP2 file in the
// fragments; model/dicom_j2k.h). Deflated datasets are inflated here, bounded
// by DecodeLimits::max_bytes. A body written in implicit VR under an explicit
// VR transfer syntax is re-read as implicit VR (pydicom does the same).
//
// Pixel semantics of DecodeDicom (tests/dicom_decode_test.cc holds them to
// pydicom 2.3's `pixel_array` + `apply_modality_lut` on pydicom's test files):
//  * Integer samples honour Bits Allocated (1, 8, 16, 32), Bits Stored, High
//    Bit (the stored bits are taken from High Bit down; bits above are masked
//    off) and Pixel Representation (two's complement, sign-extended from the
//    top stored bit). pydicom 2.3 masks nothing; the two agree on every test
//    file. JPEG 2000 uses the codestream's values; an unsigned codestream
//    under Pixel Representation 1 is read as two's complement of its own
//    precision (pydicom's "J2K corrections").
//  * Grayscale: Rescale Slope/Intercept applied in double precision (a missing
//    slope counts as 1, a missing intercept as 0; pydicom needs both), stored
//    as float. A Modality LUT Sequence is refused (InvalidArgument), never
//    ignored. Colour images get no rescale.
//  * MONOCHROME1 sets `monochrome1`; values are NOT inverted.
//  * RGB is returned as is. YBR_FULL and YBR_FULL_422 are converted to RGB with
//    pydicom's convert_color_space formula (float32, round half up, clamp):
//    native YBR_FULL_422 is first upsampled by repeating chroma (as pydicom),
//    JPEG data is taken from the codec without its colour transform (as
//    pydicom's Pillow handler does). YBR_RCT / YBR_ICT (JPEG 2000) leave
//    OpenJPEG as RGB.
//  * Refused (InvalidArgument): PALETTE COLOR, YBR_PARTIAL_*, other colour
//    models, Float/Double Float Pixel Data, Bits Allocated 1 outside native
//    grayscale, transfer syntaxes other than those above.
//  * The first Window Center/Width pair becomes `file_window`.
//
// Errors: every malformed, truncated, non-DICOM, over-limit or unsupported
// input is InvalidArgument with the reason; an unloadable DCMTK data
// dictionary is FailedPrecondition. Nothing throws; no input crashes. Limits
// (bytes, Rows*Columns, Number of Frames) are checked before any pixel buffer
// is allocated; each compressed frame's own header (JPEG/JPEG-LS SOF, RLE
// segment table, JPEG 2000 SIZ) is checked against the DICOM header before
// the codec runs. DCMTK reports parse problems through its oflog logger
// (stderr unless the binary configures OFLog).
//
// Threading: both functions are safe to call concurrently. The DCMTK decoders
// are registered process-wide once (absl::call_once) on the first call and
// never deregistered; other DCMTK users in the process share them (if they
// registered first, their settings win; the colour model DCMTK reports per
// frame is honoured either way).
#ifndef VLSM_MODEL_DICOM_DECODE_H_
#define VLSM_MODEL_DICOM_DECODE_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "model/image.h"

namespace vlsm {

// Header facts of one DICOM image instance. Deliberately no patient
// identifiers (name, ID, birth date, ...): only UIDs, which a DICOM SEG made
// from this image must reference, and geometry/value-mapping attributes.
// Absent attributes are empty strings / nullopt.
struct DicomInfo {
  // Image Pixel module.
  int64_t frames = 1;  // Number of Frames (1 when absent)
  int64_t rows = 0, cols = 0;
  int samples_per_pixel = 1;
  int bits_allocated = 0, bits_stored = 0, high_bit = 0;
  bool is_signed = false;  // Pixel Representation 1
  int planar_configuration = 0;
  std::string photometric;  // e.g. "MONOCHROME2", "RGB", "YBR_FULL_422"

  // Encoding.
  std::string transfer_syntax_uid;  // as read (deflated input keeps its UID)
  bool encapsulated = false;        // compressed Pixel Data (fragments)

  // Identification (UIDs only).
  std::string modality;
  std::string sop_class_uid, sop_instance_uid;
  std::string study_instance_uid, series_instance_uid;
  std::string frame_of_reference_uid;

  // Geometry (Image Plane module; top-level attributes only, not the
  // per-frame functional groups of enhanced multi-frame objects).
  std::optional<std::array<double, 3>> image_position_patient;
  std::optional<std::array<double, 6>> image_orientation_patient;
  std::optional<std::array<double, 2>> pixel_spacing;  // row, column (mm)
  std::optional<double> slice_thickness;

  // Value mapping.
  std::optional<double> rescale_slope, rescale_intercept;
  bool has_modality_lut_sequence = false;
  std::vector<Window> windows;  // all Window Center/Width pairs, in order
};

// Reads the header (no pixel decompression). InvalidArgument for input that
// is not a readable DICOM dataset with Pixel Data or exceeds `limits`.
absl::StatusOr<DicomInfo> ReadDicomInfo(absl::string_view bytes,
                                        const DecodeLimits& limits = DecodeLimits());

// Decodes frame `frame` (0-based) into modality values; see the file comment
// for the exact semantics. Frame out of range is InvalidArgument.
absl::StatusOr<DecodedImage> DecodeDicom(absl::string_view bytes, const DecodeLimits& limits,
                                         int64_t frame = 0);

}  // namespace vlsm

#endif  // VLSM_MODEL_DICOM_DECODE_H_
