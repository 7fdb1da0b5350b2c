// Shutdown on SIGTERM / SIGINT for the daemons (vlsm-server,
// vlsm-pacs-bridge): the signals are blocked before any thread starts, so
// every thread inherits the mask and none of them is interrupted; the main
// thread then takes the signal synchronously with sigwait, and the shutdown
// runs as ordinary code instead of in a signal handler.
//
// Ownership: a value holding the signal set; it does not unblock on
// destruction (a daemon waits once and exits).
// Threading: construct in main before any thread is started (threads started
// earlier keep their own mask and could take the signal's default action);
// Wait from one thread.
// Errors: none; the calls cannot fail with a valid signal set.
#ifndef VLSM_SERVER_SHUTDOWN_SIGNALS_H_
#define VLSM_SERVER_SHUTDOWN_SIGNALS_H_

#include <csignal>

namespace vlsm {

class ShutdownSignals {
 public:
  // Blocks SIGTERM and SIGINT in the calling thread, and so in every thread
  // it starts afterwards.
  ShutdownSignals();

  // Waits until SIGTERM or SIGINT arrives (or is already pending) and
  // returns its number.
  int Wait() const;

 private:
  sigset_t signals_;
};

}  // namespace vlsm

#endif  // VLSM_SERVER_SHUTDOWN_SIGNALS_H_
