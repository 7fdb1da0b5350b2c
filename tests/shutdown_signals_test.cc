// The daemons' shutdown signals, delivered in process: each case blocks them
// first, so a signal that got through would end the test process (a failure),
// and Wait returns only once the signal is there (no sleeps).
#include "server/shutdown_signals.h"

#include <pthread.h>
#include <unistd.h>

#include <csignal>
#include <thread>

#include "gtest/gtest.h"

namespace vlsm {
namespace {

TEST(ShutdownSignalsTest, WaitReturnsAPendingSignal) {
  const ShutdownSignals signals;
  ASSERT_EQ(raise(SIGTERM), 0);  // pending: blocked in this thread
  EXPECT_EQ(signals.Wait(), SIGTERM);
  ASSERT_EQ(raise(SIGINT), 0);
  EXPECT_EQ(signals.Wait(), SIGINT);
}

TEST(ShutdownSignalsTest, ThreadsStartedAfterwardInheritTheMask) {
  const ShutdownSignals signals;
  bool term_blocked = false, int_blocked = false;
  std::thread([&] {
    sigset_t mask;
    pthread_sigmask(SIG_BLOCK, nullptr, &mask);
    term_blocked = sigismember(&mask, SIGTERM) == 1;
    int_blocked = sigismember(&mask, SIGINT) == 1;
  }).join();
  EXPECT_TRUE(term_blocked);
  EXPECT_TRUE(int_blocked);
}

TEST(ShutdownSignalsTest, AWaitingThreadTakesAProcessSignal) {
  const ShutdownSignals signals;
  int received = 0;
  std::thread waiter([&] { received = signals.Wait(); });
  ASSERT_EQ(kill(getpid(), SIGTERM), 0);  // as `kill` or systemd sends it
  waiter.join();
  EXPECT_EQ(received, SIGTERM);
}

}  // namespace
}  // namespace vlsm
