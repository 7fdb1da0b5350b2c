#include "model/dicom_parse.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <zlib.h>

#include <cstring>
#include <limits>
#include <utility>

#include "absl/base/call_once.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace vlsm::dicom_internal {
namespace {

absl::Status Invalid(absl::string_view what) { return absl::InvalidArgumentError(what); }

// DCMTK allocates an element's declared length before reading its value, so an
// attacker's length field (up to 4 GiB) would drive that allocation. Values
// longer than this are instead skipped over while parsing, which fails when
// fewer bytes remain, and loaded from the input on first access (see
// LazyBufferStream): no allocation exceeds this bound or the input's size.
constexpr Uint32 kMaxReadLength = 4096;

// Recreates a stream over `buffer` positioned at `offset`, for DCMTK to load
// a value it skipped. The buffer must outlive the dataset.
class BufferStreamFactory : public DcmInputStreamFactory {
 public:
  BufferStreamFactory(absl::string_view buffer, offile_off_t offset)
      : buffer_(buffer), offset_(offset) {}
  DcmInputStream* create() const override;
  DcmInputStreamFactory* clone() const override { return new BufferStreamFactory(*this); }
  // DCMTK has no identifier for other factories, and never inspects it.
  DcmInputStreamFactoryType ident() const override { return DFT_DcmInputFileStreamFactory; }

 private:
  absl::string_view buffer_;
  offile_off_t offset_;
};

// A buffer stream supporting delayed loading, which DcmInputBufferStream lacks
// (without it DCMTK reads every value eagerly, whatever maxReadLength says).
class LazyBufferStream : public DcmInputBufferStream {
 public:
  explicit LazyBufferStream(absl::string_view buffer) : buffer_(buffer) {
    setBuffer(buffer.data(), static_cast<offile_off_t>(buffer.size()));
    setEos();
  }
  DcmInputStreamFactory* newFactory() const override {
    return new BufferStreamFactory(buffer_, tell());
  }

 private:
  absl::string_view buffer_;
};

DcmInputStream* BufferStreamFactory::create() const {
  auto* stream = new LazyBufferStream(buffer_);
  stream->skip(offset_);
  return stream;
}

// The process-wide DCMTK codec registry: JPEG decoded without any colour
// transform (EDC_never) so YBR data reaches our pydicom-compatible conversion.
// If another component registered the codecs first its parameters win; the
// colour model DCMTK reports per frame is honoured either way.
void RegisterCodecs() {
  static absl::once_flag once;
  absl::call_once(once, [] {
    DJDecoderRegistration::registerCodecs(EDC_never);
    DJLSDecoderRegistration::registerCodecs();
    DcmRLEDecoderRegistration::registerCodecs();
  });
}

// Raw inflate (RFC 1951, as DICOM's deflated transfer syntax uses) of `in`,
// refusing output larger than `max_out` bytes.
absl::StatusOr<std::string> Inflate(absl::string_view in, int64_t max_out) {
  if (in.size() > std::numeric_limits<uInt>::max()) return Invalid("deflated dataset too large");
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) return absl::InternalError("inflateInit2 failed");
  std::string out;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  char chunk[64 * 1024];
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk);
    zs.avail_out = sizeof(chunk);
    rc = inflate(&zs, Z_NO_FLUSH);
    const size_t produced = sizeof(chunk) - zs.avail_out;
    if (static_cast<int64_t>(out.size() + produced) > max_out) {
      inflateEnd(&zs);
      return Invalid(absl::StrCat("deflated dataset inflates beyond ", max_out, " bytes"));
    }
    out.append(chunk, produced);
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    return Invalid(absl::StrCat("deflated dataset is corrupt or truncated (zlib ", rc, ")"));
  }
  return out;
}

absl::Status ReadDataset(DcmDataset& dataset, DcmInputStream& stream, E_TransferSyntax xfer) {
  dataset.transferInit();
  const OFCondition cond = dataset.read(stream, xfer, EGL_noChange, kMaxReadLength);
  dataset.transferEnd();
  if (cond == EC_StreamNotifyClient) return Invalid("DICOM data is truncated");
  if (cond.bad()) return Invalid(absl::StrCat("DICOM parse error: ", cond.text()));
  return absl::OkStatus();
}

// After an implicit VR read of a body declared as `parsed.xfer`: encapsulated
// Pixel Data was filed under implicit VR; re-file it under the declared
// (compressed) transfer syntax so the codec lookup works.
absl::Status AdoptImplicitBody(ParsedDicom& parsed) {
  if (!DcmXfer(parsed.xfer).isEncapsulated()) {
    parsed.xfer = EXS_LittleEndianImplicit;
    return absl::OkStatus();
  }
  DcmElement* element = nullptr;
  DcmPixelSequence* seq = nullptr;
  auto* pixels = parsed.dataset->findAndGetElement(DCM_PixelData, element).good()
                     ? dynamic_cast<DcmPixelData*>(element)
                     : nullptr;
  if (pixels == nullptr ||
      pixels->getEncapsulatedRepresentation(EXS_LittleEndianImplicit, nullptr, seq).bad() ||
      seq == nullptr) {
    return Invalid("DICOM parse error: dataset does not match its transfer syntax");
  }
  // putOriginalRepresentation() deletes the old entry and its sequence.
  pixels->putOriginalRepresentation(parsed.xfer, nullptr, new DcmPixelSequence(*seq));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ParsedDicom> ParseDicom(absl::string_view bytes, const DecodeLimits& limits) {
  if (static_cast<int64_t>(bytes.size()) > limits.max_bytes) {
    return Invalid(
        absl::StrCat("DICOM input is ", bytes.size(), " bytes, the limit is ", limits.max_bytes));
  }
  if (bytes.empty()) return Invalid("DICOM input is empty");
  RegisterCodecs();
  if (!dcmDataDict.isDictionaryLoaded()) {
    return absl::FailedPreconditionError(
        "DCMTK data dictionary not loaded (install dcmtk's dicom.dic or set DCMDICTPATH)");
  }

  LazyBufferStream stream(bytes);

  // File meta information (absent in bare datasets, then detected below).
  DcmMetaInfo meta;
  meta.transferInit();
  const OFCondition meta_cond = meta.read(stream, EXS_Unknown, EGL_noChange, kMaxReadLength);
  meta.transferEnd();
  if (meta_cond.bad()) {
    return Invalid(absl::StrCat("DICOM file meta information unreadable: ", meta_cond.text()));
  }

  ParsedDicom parsed;
  OFString ts;
  if (meta.findAndGetOFString(DCM_TransferSyntaxUID, ts).good() && !ts.empty()) {
    parsed.ts_uid = ts.c_str();
    parsed.xfer = DcmXfer(ts.c_str()).getXfer();
    if (parsed.xfer == EXS_Unknown) {
      return Invalid(absl::StrCat("unsupported transfer syntax ", parsed.ts_uid));
    }
  }
  parsed.dataset = std::make_unique<DcmDataset>();

  if (parsed.xfer == EXS_DeflatedLittleEndianExplicit) {
    const int64_t offset = stream.tell();
    absl::StatusOr<std::string> inflated = Inflate(bytes.substr(offset), limits.max_bytes);
    if (!inflated.ok()) return inflated.status();
    parsed.inflated = std::make_unique<const std::string>(*std::move(inflated));
    LazyBufferStream body(*parsed.inflated);
    absl::Status st = ReadDataset(*parsed.dataset, body, EXS_LittleEndianExplicit);
    if (!st.ok()) return st;
    parsed.xfer = EXS_LittleEndianExplicit;
    return parsed;
  }
  const offile_off_t body_start = stream.tell();
  absl::Status st = ReadDataset(*parsed.dataset, stream, parsed.xfer);
  if (!st.ok()) {
    // Some writers (early highdicom, for one) encode the dataset in implicit
    // VR although the meta header declares an explicit VR transfer syntax;
    // pydicom reads such files, DCMTK does not. Retry the body that way.
    const DcmXfer declared(parsed.xfer);
    if (parsed.xfer == EXS_Unknown || !declared.isExplicitVR() ||
        declared.getByteOrder() != EBO_LittleEndian) {
      return st;
    }
    LazyBufferStream body(bytes.substr(body_start));
    parsed.dataset = std::make_unique<DcmDataset>();
    if (!ReadDataset(*parsed.dataset, body, EXS_LittleEndianImplicit).ok()) return st;
    absl::Status fixed = AdoptImplicitBody(parsed);
    if (!fixed.ok()) return fixed;
  }
  if (parsed.xfer == EXS_Unknown) {
    parsed.xfer = parsed.dataset->getOriginalXfer();
    if (parsed.xfer == EXS_Unknown) return Invalid("not DICOM: transfer syntax undetectable");
    parsed.ts_uid = DcmXfer(parsed.xfer).getXferID();
  }
  return parsed;
}

}  // namespace vlsm::dicom_internal
