#include "client/pacs_scp.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "client/pacs_instance.h"
#include "client/pacs_privacy.h"
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcmetinf.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmnet/scppool.h"
#include "dcmtk/dcmnet/scpthrd.h"

namespace vlsm::pacs {
namespace {

struct ScpContext {
  Spool* spool;
  BridgeMetrics* metrics;
  std::function<void(const StoredInstance&)> on_stored;
  std::string ae_title;
  std::vector<std::string> allowed_calling_aes;
};

// One association's handler: C-ECHO from the base class, C-STORE here.
class StoreHandler : public DcmThreadSCP {
 public:
  explicit StoreHandler(const ScpContext* context) : context_(context) {}

 protected:
  OFCondition handleIncomingCommand(T_DIMSE_Message* message,
                                    const DcmPresentationContextInfo& info) override {
    if (message->CommandField != DIMSE_C_STORE_RQ) {
      return DcmThreadSCP::handleIncomingCommand(message, info);
    }
    T_DIMSE_C_StoreRQ& request = message->msg.CStoreRQ;
    DcmDataset* received = nullptr;
    const OFCondition cond = receiveSTORERequest(request, info.presentationContextID, received);
    std::unique_ptr<DcmDataset> dataset(received);
    if (cond.bad()) {
      // The data set did not arrive whole: nothing to answer, DCMTK ends the
      // association.
      context_->metrics->InstanceReceived("rejected");
      LogLine(absl::StrCat("C-STORE from ", getPeerAETitle().c_str(),
                           ": receiving the data set failed: ", cond.text()));
      return cond;
    }
    const Uint16 status = Store(request, *dataset);
    return sendSTOREResponse(info.presentationContextID, request, status);
  }

  OFBool checkCalledAETitleAccepted(const OFString& called) override {
    return std::string(called.c_str()) == context_->ae_title;
  }

  OFBool checkCallingAETitleAccepted(const OFString& calling) override {
    if (context_->allowed_calling_aes.empty()) return OFTrue;
    for (const std::string& ae : context_->allowed_calling_aes) {
      if (ae == calling.c_str()) return OFTrue;
    }
    LogLine(absl::StrCat("association from calling AE ", calling.c_str(), " refused"));
    return OFFalse;
  }

 private:
  Uint16 Store(const T_DIMSE_C_StoreRQ& request, DcmDataset& dataset) {
    const std::string calling = getPeerAETitle().c_str();
    StoreVerdict verdict =
        CheckForStore(dataset, request.AffectedSOPClassUID, request.AffectedSOPInstanceUID);
    if (verdict.status != kStatusSuccess) {
      context_->metrics->InstanceReceived("rejected");
      LogLine(absl::StrFormat("C-STORE from %s refused with 0x%04X: %s", calling, verdict.status,
                              verdict.reason));
      return verdict.status;
    }
    // Spool first, answer after: an acknowledged instance is on disk.
    DcmFileFormat file(&dataset);
    file.getMetaInfo()->putAndInsertString(DCM_SourceApplicationEntityTitle, calling.c_str());
    E_TransferSyntax xfer = dataset.getOriginalXfer();
    if (xfer == EXS_Unknown) xfer = EXS_LittleEndianExplicit;
    const std::string temp = context_->spool->NewTempPath();
    // EWM_updateMeta: keep (0002,0016); the default mode rebuilds the meta
    // header without it.
    const OFCondition saved = file.saveFile(temp.c_str(), xfer, EET_ExplicitLength, EGL_recalcGL,
                                            EPD_noChange, 0, 0, EWM_updateMeta);
    if (saved.bad()) {
      ::unlink(temp.c_str());
      context_->metrics->InstanceReceived("rejected");
      LogLine(absl::StrCat("spooling failed: ", saved.text()));
      return kStatusOutOfResources;
    }
    ::chmod(temp.c_str(), 0600);  // patient data: owner only, like the spool's own writes
    auto outcome =
        context_->spool->CommitInstance(temp, verdict.info.series_uid, verdict.info.sop_uid);
    if (!outcome.ok()) {
      context_->metrics->InstanceReceived("rejected");
      LogLine(absl::StrCat("spooling failed: ", outcome.status().message()));
      return kStatusOutOfResources;
    }
    if (*outcome == Spool::StoreOutcome::kDuplicate) {
      context_->metrics->InstanceReceived("duplicate");
      return kStatusSuccess;
    }
    context_->metrics->InstanceReceived("stored");
    if (context_->on_stored) {
      context_->on_stored({Spool::SeriesKey(verdict.info.series_uid), absl::Now()});
    }
    return kStatusSuccess;
  }

  const ScpContext* const context_;
};

class HandlerPool : public DcmBaseSCPPool {
 public:
  explicit HandlerPool(const ScpContext* context) : context_(context) {}

 protected:
  class Worker : public DcmBaseSCPPool::DcmBaseSCPWorker, private StoreHandler {
   public:
    Worker(HandlerPool& pool, const ScpContext* context)
        : DcmBaseSCPWorker(pool), StoreHandler(context) {}
    OFCondition setSharedConfig(const DcmSharedSCPConfig& config) override {
      return StoreHandler::setSharedConfig(config);
    }
    OFBool busy() override { return StoreHandler::isConnected(); }

   protected:
    OFCondition workerListen(T_ASC_Association* const assoc) override {
      return StoreHandler::run(assoc);
    }
  };

  DcmBaseSCPWorker* createSCPWorker() override { return new Worker(*this, context_); }

 private:
  const ScpContext* const context_;
};

absl::StatusOr<std::string> ResolveUid(const std::string& name_or_uid) {
  if (!name_or_uid.empty() && absl::ascii_isdigit(static_cast<unsigned char>(name_or_uid[0]))) {
    return name_or_uid;
  }
  const char* uid = dcmFindUIDFromName(name_or_uid.c_str());
  if (uid == nullptr)
    return absl::InvalidArgumentError(absl::StrCat("unknown UID name ", name_or_uid));
  return std::string(uid);
}

std::vector<std::string> DefaultSopClasses() {
  return {UID_CTImageStorage,
          UID_MRImageStorage,
          UID_ComputedRadiographyImageStorage,
          UID_DigitalXRayImageStorageForPresentation,
          UID_DigitalMammographyXRayImageStorageForPresentation,
          UID_UltrasoundImageStorage,
          UID_SecondaryCaptureImageStorage,
          UID_PositronEmissionTomographyImageStorage};
}

std::vector<std::string> DefaultTransferSyntaxes() {
  return {UID_LittleEndianExplicitTransferSyntax,
          UID_LittleEndianImplicitTransferSyntax,
          UID_DeflatedExplicitVRLittleEndianTransferSyntax,
          UID_JPEGProcess1TransferSyntax,
          UID_JPEGProcess2_4TransferSyntax,
          UID_JPEGProcess14SV1TransferSyntax,
          UID_JPEGLSLosslessTransferSyntax,
          UID_JPEGLSLossyTransferSyntax,
          UID_JPEG2000LosslessOnlyTransferSyntax,
          UID_JPEG2000TransferSyntax,
          UID_RLELosslessTransferSyntax};
}

// DCMTK binds inside its listen loop; probe first so Start can report a
// port in use instead of failing later on the listener thread.
absl::Status ProbePort(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::UnavailableError("cannot create a socket");
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::close(fd);
  if (rc != 0) return absl::UnavailableError(absl::StrCat("cannot bind DICOM port ", port));
  return absl::OkStatus();
}

bool Connectable(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

class StorageScp::Impl {
 public:
  explicit Impl(ScpContext context) : context_(std::move(context)), pool_(&context_) {}
  ~Impl() {
    if (!thread_.joinable()) return;
    // listen() resets the run mode when it starts, so repeat the stop
    // request until the listener has really ended.
    do {
      pool_.stopAfterCurrentAssociations();
    } while (!stopped_.WaitForNotificationWithTimeout(absl::Milliseconds(200)));
    thread_.join();
  }

  absl::Status Configure(const ScpOptions& o) {
    DcmSCPConfig& cfg = pool_.getConfig();
    cfg.setAETitle(o.ae_title.c_str());
    cfg.setPort(static_cast<Uint16>(o.port));
    cfg.setHostLookupEnabled(OFFalse);
    cfg.setConnectionBlockingMode(DUL_NOBLOCK);
    cfg.setConnectionTimeout(1);  // the listen loop checks for shutdown each second
    cfg.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
    const auto timeout =
        static_cast<Uint32>(std::max<int64_t>(1, absl::ToInt64Seconds(o.network_timeout)));
    cfg.setDIMSETimeout(timeout);
    cfg.setACSETimeout(timeout);
    pool_.setMaxThreads(static_cast<Uint16>(std::max(1, o.max_associations)));

    OFList<OFString> syntaxes;
    for (const std::string& s :
         o.transfer_syntaxes.empty() ? DefaultTransferSyntaxes() : o.transfer_syntaxes) {
      auto uid = ResolveUid(s);
      if (!uid.ok()) return uid.status();
      syntaxes.push_back(uid->c_str());
    }
    OFList<OFString> echo_syntaxes;
    echo_syntaxes.push_back(UID_LittleEndianExplicitTransferSyntax);
    echo_syntaxes.push_back(UID_LittleEndianImplicitTransferSyntax);
    if (cfg.addPresentationContext(UID_VerificationSOPClass, echo_syntaxes).bad()) {
      return absl::InternalError("cannot add the Verification presentation context");
    }
    for (const std::string& c : o.sop_classes.empty() ? DefaultSopClasses() : o.sop_classes) {
      auto uid = ResolveUid(c);
      if (!uid.ok()) return uid.status();
      const OFCondition cond = cfg.addPresentationContext(uid->c_str(), syntaxes);
      if (cond.bad()) {
        return absl::InvalidArgumentError(absl::StrCat("SOP class ", c, ": ", cond.text()));
      }
    }
    return absl::OkStatus();
  }

  void Run() {
    running_ = true;
    thread_ = std::thread([this] {
      const OFCondition cond = pool_.listen();
      if (cond.bad()) LogLine(absl::StrCat("DICOM listener stopped: ", cond.text()));
      running_ = false;
      stopped_.Notify();
    });
  }

  bool running() const { return running_; }

 private:
  ScpContext context_;
  HandlerPool pool_;
  std::thread thread_;
  std::atomic<bool> running_{false};
  absl::Notification stopped_;
};

StorageScp::StorageScp(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StorageScp::~StorageScp() = default;
bool StorageScp::running() const { return impl_->running(); }

absl::StatusOr<std::unique_ptr<StorageScp>> StorageScp::Start(
    const ScpOptions& options, Spool* spool, BridgeMetrics* metrics,
    std::function<void(const StoredInstance&)> on_stored) {
  if (options.ae_title.empty() || options.ae_title.size() > 16) {
    return absl::InvalidArgumentError("the AE title must have 1 to 16 characters");
  }
  if (options.port <= 0 || options.port > 65535) {
    return absl::InvalidArgumentError("the DICOM port must be in 1..65535");
  }
  auto impl = std::make_unique<Impl>(ScpContext{spool, metrics, std::move(on_stored),
                                                options.ae_title, options.allowed_calling_aes});
  if (absl::Status s = impl->Configure(options); !s.ok()) return s;
  if (absl::Status s = ProbePort(options.port); !s.ok()) return s;
  impl->Run();
  // Return once the listener accepts connections (or has failed).
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!Connectable(options.port)) {
    if (!impl->running() || absl::Now() > deadline) {
      return absl::UnavailableError(
          absl::StrCat("the DICOM listener on port ", options.port, " did not start"));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  return std::unique_ptr<StorageScp>(new StorageScp(std::move(impl)));
}

}  // namespace vlsm::pacs
