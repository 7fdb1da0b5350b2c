// Part of vlsm_dicom (internal; use model/dicom_decode.h). Parses a DICOM
// Part 10 file (or a bare dataset) from memory into a DCMTK dataset: file meta
// information, transfer syntax detection, bounded inflation of deflated
// datasets, and a retry for bodies written in implicit VR under an explicit
// VR transfer syntax (as pydicom tolerates). Registers the DCMTK decoders
// process-wide once (absl::call_once) before the first parse.
//
// Thread-safe: each call owns its dataset. Malformed, truncated, non-DICOM or
// over-limit input is InvalidArgument; a missing DCMTK data dictionary is
// FailedPrecondition.
#ifndef VLSM_MODEL_DICOM_PARSE_H_
#define VLSM_MODEL_DICOM_PARSE_H_

#include <dcmtk/config/osconfig.h>  // must precede the other DCMTK headers
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "model/image.h"

namespace vlsm::dicom_internal {

struct ParsedDicom {
  // Values over 4 KiB stay in the input until first accessed: `dataset` reads
  // them from the `bytes` given to ParseDicom (or from `inflated`), which must
  // outlive it.
  std::unique_ptr<const std::string> inflated;  // a deflated dataset, inflated
  std::unique_ptr<DcmDataset> dataset;
  // How `dataset` was read: a native or encapsulated syntax, never deflated
  // (inflated data reads as explicit VR little endian).
  E_TransferSyntax xfer = EXS_Unknown;
  std::string ts_uid;  // as declared in the meta header, else as detected
};

// Refuses input over limits.max_bytes, and deflated data inflating beyond it.
// No element length drives an allocation beyond the input's size.
absl::StatusOr<ParsedDicom> ParseDicom(absl::string_view bytes, const DecodeLimits& limits);

}  // namespace vlsm::dicom_internal

#endif  // VLSM_MODEL_DICOM_PARSE_H_
