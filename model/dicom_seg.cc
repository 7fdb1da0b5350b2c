#include "model/dicom_seg.h"

#include <dcmtk/config/osconfig.h>  // must precede the other DCMTK headers
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmfg/fgderimg.h>
#include <dcmtk/dcmfg/fgfracon.h>
#include <dcmtk/dcmfg/fgpixmsr.h>
#include <dcmtk/dcmfg/fgplanor.h>
#include <dcmtk/dcmfg/fgplanpo.h>
#include <dcmtk/dcmiod/iodmacro.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>

#include <algorithm>
#include <array>
#include <exception>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "model/dicom_seg_source.h"
#include "model/dicom_seg_text.h"

namespace vlsm {
namespace {

using dicom_seg_internal::Ascii;
using dicom_seg_internal::Ds;
using dicom_seg_internal::Geometry;
using dicom_seg_internal::PatchText;
using dicom_seg_internal::ReadSourceFrames;
using Source = dicom_seg_internal::SourceFrame;

absl::Status Invalid(absl::string_view what) { return absl::InvalidArgumentError(what); }

absl::Status Dcmtk(absl::string_view what, const OFCondition& cond) {
  return absl::InternalError(absl::StrCat("DICOM SEG: ", what, ": ", cond.text()));
}

CodeSequenceMacro Code(const SegCode& code) {
  return CodeSequenceMacro(code.value.c_str(), code.scheme.c_str(), code.meaning.c_str());
}

bool Complete(const Geometry& g) { return g.position && g.orientation && g.spacing; }

// How the frames are placed: with a Frame of Reference (`planes`), the plane
// orientation is shared unless the sources differ in it.
struct Layout {
  bool planes = false;
  bool orientation_per_frame = false;
};

std::unique_ptr<FGPlaneOrientationPatient> Orientation(const std::array<double, 6>& o) {
  return std::unique_ptr<FGPlaneOrientationPatient>(FGPlaneOrientationPatient::createMinimal(
      Ds(o[0]).c_str(), Ds(o[1]).c_str(), Ds(o[2]).c_str(), Ds(o[3]).c_str(), Ds(o[4]).c_str(),
      Ds(o[5]).c_str()));
}

// The sources' common Slice Thickness; else, with plane positions (where
// DICOM requires a thickness), the smallest gap between the source planes
// along the normal (e.g. RT Dose frames); else none.
std::optional<double> SliceThickness(const std::vector<Source>& sources, const Layout& layout) {
  const std::optional<double>& t0 = sources.front().geometry.thickness;
  if (t0 && *t0 > 0 && std::all_of(sources.begin(), sources.end(), [&](const Source& s) {
        return s.geometry.thickness == t0;
      })) {
    return t0;
  }
  if (!layout.planes) return std::nullopt;
  const std::array<double, 6>& o = *sources.front().geometry.orientation;
  const std::array<double, 3> n{o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5],
                                o[0] * o[4] - o[1] * o[3]};
  std::vector<double> along;
  for (const Source& s : sources) {
    const std::array<double, 3>& p = *s.geometry.position;
    along.push_back(p[0] * n[0] + p[1] * n[1] + p[2] * n[2]);
  }
  std::sort(along.begin(), along.end());
  std::optional<double> gap;
  for (size_t i = 1; i < along.size(); ++i) {
    const double d = along[i] - along[i - 1];
    if (d > 1e-3 && (!gap || d < *gap)) gap = d;
  }
  return gap;
}

// Pixel Measures shared by every frame: the first source's spacing (and
// slice thickness when every source has the same).
absl::Status AddSharedGeometry(DcmSegmentation& seg, const std::vector<Source>& sources,
                               const Layout& layout) {
  const Geometry& g0 = sources.front().geometry;
  FGPixelMeasures measures;
  OFCondition c = measures.setPixelSpacing(
      absl::StrCat(Ds((*g0.spacing)[0]), "\\", Ds((*g0.spacing)[1])).c_str());
  std::optional<double> thickness = SliceThickness(sources, layout);
  if (c.good() && thickness) c = measures.setSliceThickness(Ds(*thickness).c_str());
  if (c.good()) c = seg.addForAllFrames(measures);
  if (c.bad()) return Dcmtk("pixel measures", c);
  if (!layout.planes || layout.orientation_per_frame) return absl::OkStatus();
  std::unique_ptr<FGPlaneOrientationPatient> orientation = Orientation(*g0.orientation);
  if (orientation == nullptr) return absl::InternalError("DICOM SEG: plane orientation");
  c = seg.addForAllFrames(*orientation);
  if (c.bad()) return Dcmtk("plane orientation", c);
  return absl::OkStatus();
}

absl::Status AddReferences(DcmSegmentation& seg, const std::vector<Source>& sources) {
  auto* series = new IODSeriesAndInstanceReferenceMacro::ReferencedSeriesItem;
  seg.getCommonInstanceReference().getReferencedSeriesItems().push_back(series);
  OFCondition c = series->setSeriesInstanceUID(sources.front().info.series_instance_uid.c_str());
  std::set<std::string> added;
  for (const Source& s : sources) {
    if (c.bad()) break;
    if (!added.insert(s.info.sop_instance_uid).second) continue;
    c = series->addReference(s.info.sop_class_uid.c_str(), s.info.sop_instance_uid.c_str());
  }
  if (c.bad()) return Dcmtk("referenced series", c);
  return absl::OkStatus();
}

absl::Status SetDerivation(FGDerivationImage& fg, const Source& s) {
  fg.clearData();
  DerivationImageItem* item = nullptr;
  OFCondition c =
      fg.addDerivationImageItem(CodeSequenceMacro("113076", "DCM", "Segmentation"), "", item);
  if (c.bad()) return Dcmtk("derivation image", c);
  auto* source = new SourceImageItem;
  item->getSourceImageItems().push_back(source);
  c = source->getPurposeOfReferenceCode().set("121322", "DCM",
                                              "Source image for image processing operation");
  ImageSOPInstanceReferenceMacro& ref = source->getImageSOPInstanceReference();
  if (c.good()) c = ref.setReferencedSOPClassUID(s.info.sop_class_uid.c_str());
  if (c.good()) c = ref.setReferencedSOPInstanceUID(s.info.sop_instance_uid.c_str());
  if (c.good() && s.info.frames > 1) {
    c = ref.addReferencedFrameNumber(static_cast<Uint16>(s.frame + 1));
  }
  if (c.bad()) return Dcmtk("source image reference", c);
  return absl::OkStatus();
}

bool Empty(const std::vector<uint8_t>& mask) {
  return std::all_of(mask.begin(), mask.end(), [](uint8_t v) { return v == 0; });
}

absl::Status AddSegmentsAndFrames(DcmSegmentation& seg, const std::vector<Source>& sources,
                                  const std::vector<SegSegment>& segments,
                                  const SegProvenance& provenance, const SegOptions& options,
                                  const Layout& layout,
                                  std::vector<const std::vector<uint8_t>*>* added) {
  const bool planes = layout.planes;
  FGPlanePosPatient position;
  FGFrameContent content;
  FGDerivationImage derivation;
  OFVector<FGBase*> per_frame{&content, &derivation};
  if (planes) per_frame.push_back(&position);
  const std::string algorithm = Ascii(provenance.algorithm_name, 64);
  for (const SegSegment& in : segments) {
    DcmSegment* raw = nullptr;
    OFCondition c =
        DcmSegment::create(raw, Ascii(in.label, 64).c_str(), Code(in.category), Code(in.type),
                           DcmSegTypes::SAT_AUTOMATIC, algorithm.c_str());
    if (c.bad()) return Dcmtk("segment", c);
    std::unique_ptr<DcmSegment> segment(raw);
    c = segment->setSegmentDescription(Ascii(in.label, 1024).c_str());
    // The identification sequence (type 3) needs a version (type 1 in it).
    if (c.good() && !provenance.algorithm_version.empty()) {
      AlgorithmIdentificationMacro id;
      c = id.getAlgorithmFamilyCode().set("123110", "DCM", "Artificial Intelligence");
      if (c.good()) c = id.setAlgorithmName(algorithm.c_str());
      if (c.good()) c = id.setAlgorithmVersion(Ascii(provenance.algorithm_version, 64).c_str());
      if (c.good()) c = segment->setSegmentationAlgorithmIdentification(id);
    }
    Uint16 number = 0;
    if (c.good()) c = seg.addSegment(segment.get(), number);
    if (c.bad()) return Dcmtk("segment", c);
    segment.release();  // owned by `seg`

    const bool all_empty =
        std::all_of(in.frames.begin(), in.frames.end(), [](const auto& m) { return Empty(m); });
    for (size_t i = 0; i < sources.size(); ++i) {
      const std::vector<uint8_t>& mask = in.frames[i];
      if (options.omit_empty_frames && Empty(mask) && !(all_empty && i == 0)) continue;
      const Source& s = sources[i];
      c = content.setDimensionIndexValues(number, 0);
      if (c.good()) c = content.setDimensionIndexValues(static_cast<Uint32>(i + 1), 1);
      if (c.good() && !planes) c = content.setStackID("1");
      if (c.good() && !planes) c = content.setInStackPositionNumber(static_cast<Uint32>(i + 1));
      if (c.good() && planes) {
        const std::array<double, 3>& p = *s.geometry.position;
        c = position.setImagePositionPatient(Ds(p[0]).c_str(), Ds(p[1]).c_str(), Ds(p[2]).c_str());
      }
      if (c.bad()) return Dcmtk("frame content", c);
      if (absl::Status st = SetDerivation(derivation, s); !st.ok()) return st;
      std::unique_ptr<FGPlaneOrientationPatient> orientation;
      OFVector<FGBase*> groups = per_frame;
      if (planes && layout.orientation_per_frame) {
        orientation = Orientation(*s.geometry.orientation);
        if (orientation == nullptr) return absl::InternalError("DICOM SEG: plane orientation");
        groups.push_back(orientation.get());
      }
      // addFrame only reads the pixels (it packs them into bits).
      c = seg.addFrame(const_cast<Uint8*>(mask.data()), number, groups);
      if (c.bad()) return Dcmtk("frame", c);
      added->push_back(&mask);
    }
  }
  return absl::OkStatus();
}

absl::Status CheckMasks(const std::vector<Source>& sources,
                        const std::vector<SegSegment>& segments) {
  if (segments.empty()) return Invalid("DICOM SEG: no segment");
  if (segments.size() > 0xFFFF) return Invalid("DICOM SEG: more than 65535 segments");
  const size_t pixels = static_cast<size_t>(sources.front().info.rows * sources.front().info.cols);
  for (size_t k = 0; k < segments.size(); ++k) {
    if (segments[k].frames.size() != sources.size()) {
      return Invalid(absl::StrCat("DICOM SEG: segment ", k, " has ", segments[k].frames.size(),
                                  " masks for ", sources.size(), " sources"));
    }
    for (size_t i = 0; i < sources.size(); ++i) {
      if (segments[k].frames[i].size() != pixels) {
        return Invalid(absl::StrCat("DICOM SEG: segment ", k, " mask ", i, " has ",
                                    segments[k].frames[i].size(), " pixels, expected ",
                                    sources[i].info.rows, "x", sources[i].info.cols));
      }
    }
  }
  return absl::OkStatus();
}

// Binary frames back to back, one bit per pixel, least significant bit
// first, with no padding between frames (PS3.5 8.1.1), padded to even
// length. DCMTK 3.6.7 clears the used bits of the last byte when a frame's
// size is not a multiple of 8, so the bits are packed here.
std::string PackFrames(const std::vector<const std::vector<uint8_t>*>& frames) {
  size_t total = 0;
  for (const auto* f : frames) total += f->size();
  std::string out((total + 7) / 8, '\0');
  if (out.size() % 2 != 0) out.push_back('\0');
  size_t bit = 0;
  for (const auto* f : frames) {
    for (uint8_t v : *f) {
      if (v != 0) out[bit / 8] = static_cast<char>(out[bit / 8] | (1 << (bit % 8)));
      ++bit;
    }
  }
  return out;
}

absl::StatusOr<std::string> WritePart10(DcmFileFormat& file) {
  const E_TransferSyntax xfer = EXS_LittleEndianExplicit;
  OFCondition c = file.validateMetaInfo(xfer);
  if (c.bad()) return Dcmtk("meta information", c);
  std::string out(file.calcElementLength(xfer, EET_ExplicitLength), '\0');
  DcmOutputBufferStream stream(out.data(), out.size());
  file.transferInit();
  c = file.write(stream, xfer, EET_ExplicitLength, nullptr);
  file.transferEnd();
  if (c.bad()) return Dcmtk("write", c);
  void* buffer = nullptr;
  offile_off_t length = 0;
  stream.flushBuffer(buffer, length);
  out.resize(static_cast<size_t>(stream.tell()));
  return out;
}

// A SEG derived from lossy-compressed pixels says so (General Image module);
// DCMTK writes "00" unconditionally.
absl::Status CarryLossyCompression(const std::vector<Source>& sources, DcmDataset& out) {
  for (const Source& s : sources) {
    DcmDataset& ds = *s.parsed.dataset;
    OFString flag;
    if (ds.findAndGetOFString(DCM_LossyImageCompression, flag).bad() || flag != "01") continue;
    OFCondition c = out.putAndInsertString(DCM_LossyImageCompression, "01");
    for (const DcmTagKey& tag : {DCM_LossyImageCompressionRatio, DCM_LossyImageCompressionMethod}) {
      OFString value;
      if (c.good() && ds.findAndGetOFStringArray(tag, value).good() && !value.empty()) {
        c = out.putAndInsertOFStringArray(tag, value);
      }
    }
    if (c.bad()) return Dcmtk("lossy image compression", c);
    return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Build(const std::vector<Source>& sources,
                                  const std::vector<SegSegment>& segments,
                                  const SegProvenance& provenance, const SegOptions& options) {
  const DicomInfo& first = sources.front().info;
  Layout layout;
  const bool planes = layout.planes =
      !first.frame_of_reference_uid.empty() &&
      std::all_of(sources.begin(), sources.end(),
                  [](const Source& s) { return Complete(s.geometry); });
  layout.orientation_per_frame =
      planes && std::any_of(sources.begin(), sources.end(), [&](const Source& s) {
        return *s.geometry.orientation != *sources.front().geometry.orientation;
      });
  const bool measures = std::all_of(sources.begin(), sources.end(),
                                    [](const Source& s) { return s.geometry.spacing.has_value(); });

  IODGeneralEquipmentModule::EquipmentInfo equipment(
      provenance.manufacturer.empty() ? "vlsm-serve" : Ascii(provenance.manufacturer, 64).c_str(),
      "vlsm-serve", "0",
      provenance.software_version.empty() ? "unknown"
                                          : Ascii(provenance.software_version, 64).c_str());
  ContentIdentificationMacro content;
  OFCondition c = content.setContentLabel("VLSM_SEG");
  if (c.good()) c = content.setContentDescription(Ascii(provenance.algorithm_name, 64).c_str());
  if (c.good()) c = content.setContentCreatorName("vlsm-serve^");
  if (c.good()) c = content.setInstanceNumber("1");
  if (c.bad()) return Dcmtk("content identification", c);

  DcmSegmentation* raw = nullptr;
  c = DcmSegmentation::createBinarySegmentation(
      raw, static_cast<Uint16>(first.rows), static_cast<Uint16>(first.cols), equipment, content);
  if (c.bad()) return Dcmtk("create", c);
  std::unique_ptr<DcmSegmentation> seg(raw);

  // Patient, study and (when the planes are known) frame of reference, as
  // UTF-8.
  DcmDataset& ds0 = *sources.front().parsed.dataset;
  if (ds0.tagExistsWithValue(DCM_SpecificCharacterSet)) {
    c = ds0.convertToUTF8();
    if (c.bad()) return Invalid(absl::StrCat("DICOM SEG: source 0: character set: ", c.text()));
  }
  c = seg->importHierarchy(ds0, OFTrue, OFTrue, planes, OFFalse, OFFalse);
  if (c.good()) c = seg->getSOPCommon().setSpecificCharacterSet("ISO_IR 192");
  if (c.bad()) return Dcmtk("import patient/study", c);
  if (!planes) {
    // DICOM makes the Frame of Reference module optional when every frame
    // has a Derivation Image; DCMTK 3.6.7 still writes it as type 1.
    seg->getRules()->deleteRule(DCM_FrameOfReferenceUID);
    seg->getRules()->deleteRule(DCM_PositionReferenceIndicator);
  }

  IODGeneralSeriesModule& series = seg->getSeries();
  c = series.setSeriesNumber(absl::StrCat(provenance.series_number).c_str());
  if (c.good() && !provenance.series_description.empty()) {
    c = series.setSeriesDescription(Ascii(provenance.series_description, 64).c_str());
  }
  if (c.bad()) return Dcmtk("series", c);

  // DCMTK would check the dimensions against functional groups it has not
  // written yet (and warn on stderr for every object).
  seg->setCheckDimensionsOnWrite(OFFalse);
  IODMultiframeDimensionModule& dims = seg->getDimensions();
  char dim_uid[100];
  dcmGenerateUniqueIdentifier(dim_uid, SITE_INSTANCE_UID_ROOT);
  c = dims.addDimensionIndex(DCM_ReferencedSegmentNumber, dim_uid,
                             DCM_SegmentIdentificationSequence, "Referenced Segment Number");
  if (c.good()) {
    c = planes ? dims.addDimensionIndex(DCM_ImagePositionPatient, dim_uid,
                                        DCM_PlanePositionSequence, "Image Position Patient")
               : dims.addDimensionIndex(DCM_InStackPositionNumber, dim_uid,
                                        DCM_FrameContentSequence, "In-Stack Position Number");
  }
  if (c.bad()) return Dcmtk("dimensions", c);

  if (measures) {
    if (absl::Status st = AddSharedGeometry(*seg, sources, layout); !st.ok()) return st;
  }
  if (absl::Status st = AddReferences(*seg, sources); !st.ok()) return st;
  std::vector<const std::vector<uint8_t>*> frames;
  if (absl::Status st =
          AddSegmentsAndFrames(*seg, sources, segments, provenance, options, layout, &frames);
      !st.ok()) {
    return st;
  }

  DcmFileFormat file;
  c = seg->writeDataset(*file.getDataset());
  if (c.bad()) return Dcmtk("build", c);
  const std::string bits = PackFrames(frames);
  c = file.getDataset()->putAndInsertUint8Array(
      DCM_PixelData, reinterpret_cast<const Uint8*>(bits.data()), bits.size());
  if (c.bad()) return Dcmtk("pixel data", c);
  if (!planes) {
    // Type 2C in General Image when there is no Image Orientation (Patient):
    // the source's, which holds for the SEG's pixels too (else empty).
    c = file.getDataset()->putAndInsertString(DCM_PatientOrientation,
                                              sources.front().patient_orientation.c_str());
    if (c.bad()) return Dcmtk("patient orientation", c);
  }
  if (absl::Status st = CarryLossyCompression(sources, *file.getDataset()); !st.ok()) return st;
  if (absl::Status st = PatchText(*file.getDataset(), segments, provenance); !st.ok()) return st;
  c = file.getDataset()->putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 192");
  if (c.bad()) return Dcmtk("character set", c);
  return WritePart10(file);
}

}  // namespace

absl::StatusOr<std::string> BuildDicomSeg(const std::vector<SegSource>& sources,
                                          const std::vector<SegSegment>& segments,
                                          const SegProvenance& provenance,
                                          const SegOptions& options) {
  try {
    if (provenance.algorithm_name.empty()) {
      return Invalid("DICOM SEG: the algorithm name is required (AUTOMATIC segments)");
    }
    absl::StatusOr<std::vector<Source>> read = ReadSourceFrames(sources);
    if (!read.ok()) return read.status();
    if (absl::Status st = CheckMasks(*read, segments); !st.ok()) return st;
    return Build(*read, segments, provenance, options);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("DICOM SEG: ", e.what()));
  }
}

absl::StatusOr<std::string> BuildDicomSeg(const std::vector<std::string_view>& sources,
                                          const std::vector<SegSegment>& segments,
                                          const SegProvenance& provenance,
                                          const SegOptions& options) {
  std::vector<SegSource> frames;
  frames.reserve(sources.size());
  for (std::string_view bytes : sources) frames.push_back(SegSource{bytes, 0});
  return BuildDicomSeg(frames, segments, provenance, options);
}

}  // namespace vlsm
