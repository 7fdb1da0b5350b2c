#include "server/shutdown_signals.h"

#include <pthread.h>

namespace vlsm {

ShutdownSignals::ShutdownSignals() {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGTERM);
  sigaddset(&signals_, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
}

int ShutdownSignals::Wait() const {
  int signal = 0;
  sigwait(&signals_, &signal);
  return signal;
}

}  // namespace vlsm
