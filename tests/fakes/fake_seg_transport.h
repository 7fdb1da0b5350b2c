// A SegTransport for tests: fails the first `failures` sends (Unavailable),
// then accepts; records every attempt's bytes.
#ifndef VLSM_TESTS_FAKES_FAKE_SEG_TRANSPORT_H_
#define VLSM_TESTS_FAKES_FAKE_SEG_TRANSPORT_H_

#include <string>
#include <vector>

#include "client/pacs_sender.h"

namespace vlsm::pacs {

class FakeSegTransport : public SegTransport {
 public:
  explicit FakeSegTransport(std::string name, int failures = 0)
      : name_(std::move(name)), failures_left_(failures) {}
  const std::string& name() const override { return name_; }
  absl::Status Send(absl::string_view part10) override {
    attempts.emplace_back(part10);
    if (failures_left_ > 0) {
      --failures_left_;
      return absl::UnavailableError("destination down (fake)");
    }
    accepted.emplace_back(part10);
    return absl::OkStatus();
  }
  void FailNext(int n) { failures_left_ = n; }

  std::vector<std::string> attempts;
  std::vector<std::string> accepted;

 private:
  const std::string name_;
  int failures_left_;
};

}  // namespace vlsm::pacs

#endif  // VLSM_TESTS_FAKES_FAKE_SEG_TRANSPORT_H_
