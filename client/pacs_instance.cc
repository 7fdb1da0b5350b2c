#include "client/pacs_instance.h"

#include "absl/strings/str_cat.h"
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcmetinf.h"
#include "dcmtk/dcmdata/dcxfer.h"
#include "model/safetensors.h"

namespace vlsm::pacs {
namespace {

std::string GetString(DcmItem& item, const DcmTagKey& tag) {
  OFString value;
  if (item.findAndGetOFStringArray(tag, value).bad()) return "";
  return std::string(value.c_str());
}

template <size_t N>
std::optional<std::array<double, N>> GetDoubles(DcmItem& item, const DcmTagKey& tag) {
  std::array<double, N> out;
  for (size_t i = 0; i < N; ++i) {
    Float64 v = 0;
    if (item.findAndGetFloat64(tag, v, static_cast<unsigned long>(i)).bad()) return std::nullopt;
    out[i] = v;
  }
  return out;
}

}  // namespace

InstanceInfo ReadInstance(DcmDataset& ds) {
  InstanceInfo info;
  info.sop_class_uid = GetString(ds, DCM_SOPClassUID);
  info.sop_uid = GetString(ds, DCM_SOPInstanceUID);
  info.series_uid = GetString(ds, DCM_SeriesInstanceUID);
  info.study_uid = GetString(ds, DCM_StudyInstanceUID);
  info.modality = GetString(ds, DCM_Modality);
  info.body_part = GetString(ds, DCM_BodyPartExamined);
  info.series_description = GetString(ds, DCM_SeriesDescription);
  Uint16 rows = 0, cols = 0;
  if (ds.findAndGetUint16(DCM_Rows, rows).good()) info.rows = rows;
  if (ds.findAndGetUint16(DCM_Columns, cols).good()) info.cols = cols;
  info.geometry.position = GetDoubles<3>(ds, DCM_ImagePositionPatient);
  info.geometry.orientation = GetDoubles<6>(ds, DCM_ImageOrientationPatient);
  Sint32 number = 0;
  if (ds.findAndGetSint32(DCM_InstanceNumber, number).good())
    info.geometry.instance_number = number;
  return info;
}

StoreVerdict CheckForStore(DcmDataset& ds, absl::string_view affected_sop_class,
                           absl::string_view affected_sop_instance) {
  StoreVerdict v;
  v.info = ReadInstance(ds);
  const InstanceInfo& i = v.info;
  if (i.sop_uid.empty() || i.series_uid.empty() || i.study_uid.empty() || i.sop_class_uid.empty()) {
    v.status = kStatusCannotUnderstand;
    v.reason = "a SOP Class, SOP Instance, Series or Study Instance UID is missing";
    return v;
  }
  if (i.sop_class_uid != affected_sop_class || i.sop_uid != affected_sop_instance) {
    v.status = kStatusDataSetMismatch;
    v.reason = "the data set's SOP Class/Instance UID differs from the C-STORE command";
    return v;
  }
  if (!ds.tagExists(DCM_PixelData) || i.rows <= 0 || i.cols <= 0) {
    v.status = kStatusDataSetMismatch;
    v.reason = "not an image (no Pixel Data, Rows or Columns)";
    return v;
  }
  Sint32 frames = 1;
  if (ds.findAndGetSint32(DCM_NumberOfFrames, frames).good() && frames > 1) {
    v.status = kStatusDataSetMismatch;
    v.reason = "multi-frame instances are not accepted (one slice per instance)";
    return v;
  }
  if (!DcmXfer(ds.getOriginalXfer()).isEncapsulated()) {
    Uint16 samples = 1, bits = 0;
    ds.findAndGetUint16(DCM_SamplesPerPixel, samples);
    ds.findAndGetUint16(DCM_BitsAllocated, bits);
    DcmElement* pixels = nullptr;
    if (bits == 0 || ds.findAndGetElement(DCM_PixelData, pixels).bad() || pixels == nullptr) {
      v.status = kStatusCannotUnderstand;
      v.reason = "Bits Allocated or Pixel Data is missing";
      return v;
    }
    const uint64_t needed = (static_cast<uint64_t>(i.rows) * static_cast<uint64_t>(i.cols) *
                                 std::max<Uint16>(samples, 1) * bits +
                             7) /
                            8;
    if (pixels->getLength() < needed) {
      v.status = kStatusCannotUnderstand;
      v.reason =
          absl::StrCat("Pixel Data has ", pixels->getLength(), " bytes, the image needs ", needed);
      return v;
    }
  }
  return v;
}

absl::StatusOr<InstanceInfo> ReadInstanceFile(const std::string& path, std::string* bytes) {
  DcmFileFormat file;
  const OFCondition cond = file.loadFile(path.c_str());
  if (cond.bad()) {
    return absl::InvalidArgumentError(absl::StrCat("not a DICOM file: ", cond.text()));
  }
  InstanceInfo info = ReadInstance(*file.getDataset());
  if (info.sop_uid.empty() || info.series_uid.empty() || info.study_uid.empty()) {
    return absl::InvalidArgumentError("a spooled instance lacks its identifying UIDs");
  }
  OFString ae;
  if (file.getMetaInfo()->findAndGetOFString(DCM_SourceApplicationEntityTitle, ae).good()) {
    info.calling_ae = ae.c_str();
  }
  if (bytes != nullptr) {
    absl::StatusOr<std::string> read = ReadFileToString(path);
    if (!read.ok()) {
      return absl::DataLossError(
          absl::StrCat("cannot read a spooled instance back: ", read.status().message()));
    }
    *bytes = *std::move(read);
  }
  return info;
}

}  // namespace vlsm::pacs
