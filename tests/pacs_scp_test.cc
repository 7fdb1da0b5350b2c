// The Storage SCP on loopback, driven by the bridge's own C-STORE transport.
#include "client/pacs_scp.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

#include "absl/synchronization/mutex.h"
#include "client/pacs_instance.h"
#include "client/pacs_sender.h"
#include "gtest/gtest.h"
#include "tests/support/pacs_fixtures.h"

namespace vlsm::pacs {
namespace {

namespace fs = std::filesystem;

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class PacsScpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = ::testing::TempDir() + "/pacs_scp_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(root_);
    spool_ = *Spool::Open(root_);
    metrics_ = *StartBridgeMetrics("");
    options_.ae_title = "BRIDGE_T";
    options_.port = FreePort();
    options_.network_timeout = absl::Seconds(10);
  }
  void TearDown() override {
    scp_.reset();
    fs::remove_all(root_);
  }
  void StartScp() {
    auto scp =
        StorageScp::Start(options_, spool_.get(), metrics_.get(), [this](const StoredInstance& s) {
          absl::MutexLock lock(&mu_);
          stored_.push_back(s);
        });
    ASSERT_TRUE(scp.ok()) << scp.status();
    scp_ = *std::move(scp);
  }
  std::unique_ptr<SegTransport> Sender(const std::string& calling = "TEST_SCU",
                                       const std::string& called = "BRIDGE_T") {
    CStoreDestination d;
    d.host = "127.0.0.1";
    d.port = options_.port;
    d.called_ae = called;
    d.calling_ae = calling;
    d.timeout = absl::Seconds(10);
    return MakeCStoreTransport(d);
  }
  size_t StoredCount() {
    absl::MutexLock lock(&mu_);
    return stored_.size();
  }

  std::string root_;
  std::unique_ptr<Spool> spool_;
  std::unique_ptr<BridgeMetrics> metrics_;
  ScpOptions options_;
  std::unique_ptr<StorageScp> scp_;
  absl::Mutex mu_;
  std::vector<StoredInstance> stored_;
};

TEST_F(PacsScpTest, StoresBeforeAnsweringAndRecordsTheCallingAe) {
  StartScp();
  auto sender = Sender("MODALITY_1");
  ASSERT_TRUE(sender->Send(test::ReadFileBytes(test::PacsData("CT_small.dcm"))).ok());
  // The callback ran before the response: no waiting needed.
  ASSERT_EQ(StoredCount(), 1u);
  const auto pending = spool_->ScanIncoming();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].key, stored_[0].series_key);
  const auto paths = spool_->InstancePaths(pending[0].key);
  ASSERT_EQ(paths.size(), 1u);
  auto info = ReadInstanceFile(paths[0], nullptr);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->calling_ae, "MODALITY_1");
  EXPECT_EQ(info->rows, 128);
  // Sending it again is harmless: the same file.
  ASSERT_TRUE(sender->Send(test::ReadFileBytes(test::PacsData("CT_small.dcm"))).ok());
  EXPECT_EQ(spool_->InstancePaths(pending[0].key).size(), 1u);
  EXPECT_NE(metrics_->Render().find("vlsm_pacs_instances_received_total{outcome=\"stored\"} 2"),
            std::string::npos);
}

TEST_F(PacsScpTest, NonImageAndCorruptAreRefusedAndNothingElseChanges) {
  StartScp();
  auto sender = Sender();
  const std::string no_pixels =
      test::EditedCopy(test::PacsData("CT_small.dcm"), [](DcmDataset& ds) {
        delete ds.remove(DCM_PixelData);
        ds.putAndInsertString(DCM_SOPInstanceUID, "1.2.826.0.1.3680043.2.1125.77.1");
      });
  absl::Status s = sender->Send(no_pixels);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("0xA900"), std::string::npos) << s;

  const std::string short_pixels =
      test::EditedCopy(test::PacsData("CT_small.dcm"), [](DcmDataset& ds) {
        std::vector<Uint16> few(100, 0);
        ds.putAndInsertUint16Array(DCM_PixelData, few.data(), few.size());
        ds.putAndInsertString(DCM_SOPInstanceUID, "1.2.826.0.1.3680043.2.1125.77.2");
      });
  s = sender->Send(short_pixels);
  EXPECT_NE(s.message().find("0xC000"), std::string::npos) << s;
  EXPECT_TRUE(spool_->ScanIncoming().empty());
  EXPECT_EQ(StoredCount(), 0u);

  // The SCP still serves a good instance afterwards.
  ASSERT_TRUE(sender->Send(test::ReadFileBytes(test::PacsData("MR_small.dcm"))).ok());
  EXPECT_EQ(spool_->ScanIncoming().size(), 1u);
  EXPECT_NE(metrics_->Render().find("vlsm_pacs_instances_received_total{outcome=\"rejected\"} 2"),
            std::string::npos);
}

TEST_F(PacsScpTest, WrongCalledAeOrUnlistedCallerIsRefused) {
  options_.allowed_calling_aes = {"ORTHANC"};
  StartScp();
  const std::string ct = test::ReadFileBytes(test::PacsData("CT_small.dcm"));
  EXPECT_EQ(Sender("ORTHANC", "SOMEONE_ELSE")->Send(ct).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Sender("INTRUDER", "BRIDGE_T")->Send(ct).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(spool_->ScanIncoming().empty());
  EXPECT_TRUE(Sender("ORTHANC", "BRIDGE_T")->Send(ct).ok());
}

TEST_F(PacsScpTest, UnacceptedSopClassIsNotNegotiated) {
  options_.sop_classes = {"MRImageStorage"};
  StartScp();
  const absl::Status s = Sender()->Send(test::ReadFileBytes(test::PacsData("CT_small.dcm")));
  // DcmSCP rejects an association in which no presentation context fits.
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_NE(s.message().find("Rejected"), std::string::npos) << s;
  EXPECT_TRUE(spool_->ScanIncoming().empty());
}

TEST_F(PacsScpTest, BadOptionsAndBusyPort) {
  options_.ae_title = "AN_AE_TITLE_LONGER_THAN_16";
  EXPECT_EQ(StorageScp::Start(options_, spool_.get(), metrics_.get(), nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
  options_.ae_title = "OK";
  options_.sop_classes = {"NoSuchStorage"};
  EXPECT_EQ(StorageScp::Start(options_, spool_.get(), metrics_.get(), nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
  options_.sop_classes.clear();
  auto first = StorageScp::Start(options_, spool_.get(), metrics_.get(), nullptr);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(StorageScp::Start(options_, spool_.get(), metrics_.get(), nullptr).status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace vlsm::pacs
