#include "client/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>

namespace vlsm::client {

ProgressBar::ProgressBar(uint64_t total, std::string unit)
    : total_(total), unit_(std::move(unit)), enabled_(isatty(STDERR_FILENO) && total > 0) {}

void ProgressBar::Update(uint64_t done) {
  if (!enabled_) return;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(kWidth * std::min(done, total_) / total_);
  std::fprintf(stderr, "\r[%s%s] %llu/%llu %s", std::string(filled, '#').c_str(),
               std::string(kWidth - filled, ' ').c_str(), static_cast<unsigned long long>(done),
               static_cast<unsigned long long>(total_), unit_.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::Finish() {
  if (drawn_) std::fprintf(stderr, "\n");
  drawn_ = false;
}

}  // namespace vlsm::client
