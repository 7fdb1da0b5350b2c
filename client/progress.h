// A one-line progress bar on stderr, drawn only when stderr is a terminal.
// Threading: not thread-safe; call from one thread.
#ifndef VLSM_CLIENT_PROGRESS_H_
#define VLSM_CLIENT_PROGRESS_H_

#include <cstdint>
#include <string>

namespace vlsm::client {

class ProgressBar {
 public:
  // `unit` names what is counted ("images", "MiB"), shown after the counts.
  ProgressBar(uint64_t total, std::string unit);
  void Update(uint64_t done);
  // Ends the line (if one was drawn) so later output starts on a fresh one.
  void Finish();

 private:
  uint64_t total_;
  std::string unit_;
  bool enabled_;
  bool drawn_ = false;
};

}  // namespace vlsm::client

#endif  // VLSM_CLIENT_PROGRESS_H_
