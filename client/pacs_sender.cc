#include "client/pacs_sender.h"

#include <curl/curl.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcistrmb.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmnet/scu.h"

namespace vlsm::pacs {
namespace {

// DICOM PS3.4 B.2.3: 0x0000 success, 0xB000/0xB007/0xB006 warnings (stored).
bool StoredStatus(Uint16 status) {
  return status == 0x0000 || status == 0xB000 || status == 0xB006 || status == 0xB007;
}

absl::Status ParsePart10(absl::string_view bytes, DcmFileFormat* file) {
  DcmInputBufferStream in;
  in.setBuffer(bytes.data(), static_cast<offile_off_t>(bytes.size()));
  in.setEos();
  file->transferInit();
  const OFCondition cond = file->read(in, EXS_Unknown, EGL_noChange);
  file->transferEnd();
  if (cond.bad()) return absl::InvalidArgumentError(absl::StrCat("not DICOM: ", cond.text()));
  return absl::OkStatus();
}

class CStoreTransport : public SegTransport {
 public:
  explicit CStoreTransport(CStoreDestination d) : d_(std::move(d)) {}
  const std::string& name() const override { return name_; }

  absl::Status Send(absl::string_view part10) override {
    DcmFileFormat file;
    if (absl::Status s = ParsePart10(part10, &file); !s.ok()) return s;
    OFString sop_class;
    file.getDataset()->findAndGetOFString(DCM_SOPClassUID, sop_class);
    if (sop_class.empty()) return absl::InvalidArgumentError("the object has no SOP Class UID");

    DcmSCU scu;
    scu.setAETitle(d_.calling_ae.c_str());
    scu.setPeerAETitle(d_.called_ae.c_str());
    scu.setPeerHostName(d_.host.c_str());
    scu.setPeerPort(static_cast<Uint16>(d_.port));
    const auto seconds =
        static_cast<Uint32>(std::max<int64_t>(1, absl::ToInt64Seconds(d_.timeout)));
    scu.setACSETimeout(seconds);
    scu.setDIMSETimeout(seconds);
    scu.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
    scu.setConnectionTimeout(static_cast<Sint32>(seconds));
    OFList<OFString> syntaxes;
    const E_TransferSyntax own = file.getDataset()->getOriginalXfer();
    if (own != EXS_Unknown && own != EXS_LittleEndianExplicit && own != EXS_LittleEndianImplicit) {
      syntaxes.push_back(DcmXfer(own).getXferID());
    }
    syntaxes.push_back(UID_LittleEndianExplicitTransferSyntax);
    syntaxes.push_back(UID_LittleEndianImplicitTransferSyntax);
    scu.addPresentationContext(sop_class, syntaxes);

    OFCondition cond = scu.initNetwork();
    if (cond.bad()) return absl::UnavailableError(absl::StrCat("C-STORE init: ", cond.text()));
    cond = scu.negotiateAssociation();
    if (cond == NET_EC_NoAcceptablePresentationContexts) {
      return absl::FailedPreconditionError(
          absl::StrCat("the destination accepts no presentation context for ", sop_class.c_str()));
    }
    if (cond.bad()) {
      return absl::UnavailableError(absl::StrCat("C-STORE association to ", d_.called_ae, "@",
                                                 d_.host, ":", d_.port, ": ", cond.text()));
    }
    const T_ASC_PresentationContextID pc = scu.findAnyPresentationContextID(sop_class, "");
    if (pc == 0) {
      scu.releaseAssociation();
      return absl::FailedPreconditionError(
          "the destination accepted no presentation context for Segmentation Storage");
    }
    Uint16 status = 0;
    cond = scu.sendSTORERequest(pc, "", file.getDataset(), status);
    scu.releaseAssociation();
    if (cond.bad()) return absl::UnavailableError(absl::StrCat("C-STORE: ", cond.text()));
    if (!StoredStatus(status)) {
      return absl::FailedPreconditionError(absl::StrFormat("C-STORE status 0x%04X", status));
    }
    return absl::OkStatus();
  }

 private:
  const CStoreDestination d_;
  const std::string name_ = "dicom";
};

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

class StowTransport : public SegTransport {
 public:
  explicit StowTransport(StowDestination d) : d_(std::move(d)) {
    static const bool initialized = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    (void)initialized;
  }
  const std::string& name() const override { return name_; }

  absl::Status Send(absl::string_view part10) override {
    const std::string boundary = "vlsm-pacs-bridge-7d1f0c2a9b";
    std::string body = absl::StrCat("--", boundary, "\r\nContent-Type: application/dicom\r\n\r\n");
    body.append(part10.data(), part10.size());
    absl::StrAppend(&body, "\r\n--", boundary, "--\r\n");

    CURL* curl = curl_easy_init();
    if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
    std::string url = d_.url;
    while (!url.empty() && url.back() == '/') url.pop_back();
    url += "/studies";
    curl_slist* headers = nullptr;
    headers = curl_slist_append(
        headers, absl::StrCat("Content-Type: multipart/related; type=\"application/dicom\"; "
                              "boundary=",
                              boundary)
                     .c_str());
    headers = curl_slist_append(headers, "Accept: application/dicom+json");
    if (!d_.bearer_token.empty()) {
      headers = curl_slist_append(headers,
                                  absl::StrCat("Authorization: Bearer ", d_.bearer_token).c_str());
    }
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Discard);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(absl::ToInt64Milliseconds(d_.timeout)));
    if (!d_.basic_auth.empty()) {
      curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
      curl_easy_setopt(curl, CURLOPT_USERPWD, d_.basic_auth.c_str());
    }
    const CURLcode rc = curl_easy_perform(curl);
    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK) {
      return absl::UnavailableError(absl::StrCat("STOW-RS: ", curl_easy_strerror(rc)));
    }
    // 200 stored; 202 stored with warnings. Anything else: not stored.
    if (code != 200 && code != 202) {
      return absl::FailedPreconditionError(absl::StrCat("STOW-RS HTTP ", code));
    }
    return absl::OkStatus();
  }

 private:
  const StowDestination d_;
  const std::string name_ = "stow";
};

}  // namespace

std::unique_ptr<SegTransport> MakeCStoreTransport(const CStoreDestination& destination) {
  return std::make_unique<CStoreTransport>(destination);
}

std::unique_ptr<SegTransport> MakeStowTransport(const StowDestination& destination) {
  return std::make_unique<StowTransport>(destination);
}

}  // namespace vlsm::pacs
