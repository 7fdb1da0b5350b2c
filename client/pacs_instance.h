// What the bridge reads from one DICOM instance (DCMTK dcmdata): identity,
// routing attributes, image size and slice geometry; and the checks a
// received instance must pass before it is spooled and acknowledged.
//
// C-STORE statuses the bridge answers with (DICOM PS3.4 B.2.3 / PS3.7 C):
//   0x0000 Success       stored durably (or already processed: a duplicate)
//   0xA900 Error: Data Set does not match SOP Class
//                        not an image (no Pixel Data, Rows or Columns), a
//                        multi-frame instance, or the SOP Class/Instance UID
//                        in the data set differs from the C-STORE command
//   0xC000 Error: Cannot understand
//                        a Study/Series/SOP Instance UID is missing, or the
//                        native Pixel Data is shorter than Rows x Columns x
//                        Samples x Bits Allocated says (corrupt)
//   0xA700 Refused: Out of Resources
//                        the spool could not write the instance (disk full)
//
// Threading: pure functions (DCMTK's dictionary is process-wide, read-only).
// Errors: ReadInstanceFile returns InvalidArgument for a file that does not
// parse or lacks the identifying UIDs; no DCMTK exception escapes.
#ifndef VLSM_CLIENT_PACS_INSTANCE_H_
#define VLSM_CLIENT_PACS_INSTANCE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/pacs_slice_order.h"

class DcmDataset;

namespace vlsm::pacs {

inline constexpr uint16_t kStatusSuccess = 0x0000;
inline constexpr uint16_t kStatusOutOfResources = 0xA700;
inline constexpr uint16_t kStatusDataSetMismatch = 0xA900;
inline constexpr uint16_t kStatusCannotUnderstand = 0xC000;

struct InstanceInfo {
  std::string sop_class_uid;
  std::string sop_uid;
  std::string series_uid;
  std::string study_uid;
  std::string modality;
  std::string body_part;
  std::string series_description;
  std::string calling_ae;  // from the file meta (0002,0016), as the bridge spooled it
  long rows = 0;
  long cols = 0;
  SliceGeometry geometry;
};

struct StoreVerdict {
  uint16_t status = kStatusSuccess;
  std::string reason;  // empty on success; never contains identifiers
  InstanceInfo info;
};

// The attributes of a data set (no meta header involved).
InstanceInfo ReadInstance(DcmDataset& dataset);

// Checks a data set received in a C-STORE whose command named
// `affected_sop_class` and `affected_sop_instance`.
StoreVerdict CheckForStore(DcmDataset& dataset, absl::string_view affected_sop_class,
                           absl::string_view affected_sop_instance);

// Reads a spooled Part 10 file: the attributes (calling_ae from its meta
// header) and, when `bytes` is not null, the whole file.
absl::StatusOr<InstanceInfo> ReadInstanceFile(const std::string& path, std::string* bytes);

}  // namespace vlsm::pacs

#endif  // VLSM_CLIENT_PACS_INSTANCE_H_
