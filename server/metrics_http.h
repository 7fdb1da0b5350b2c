// A minimal HTTP/1.0 endpoint that answers GET /metrics with a rendered text.
//
// Why not prometheus-cpp's Exposer: Debian's civetweb starts its threads
// with a fixed ~100 KiB stack, smaller than the static TLS that libtorch,
// OpenBLAS and glog need together, so pthread_create fails with EINVAL in
// any process that loads LibTorch. This server uses one std::thread (default
// stack) and serves one short request at a time, which is all a Prometheus
// scrape needs.
// Threading: `render` is called on the server thread; it must be
// thread-safe. Destruction stops the thread (closes the listening socket).
// Errors: Start returns Unavailable when the address cannot be bound.
#ifndef VLSM_SERVER_METRICS_HTTP_H_
#define VLSM_SERVER_METRICS_HTTP_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace vlsm {

class MetricsHttpServer {
 public:
  // bind_address: "HOST:PORT" (PORT 0 = any free port).
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      const std::string& bind_address, std::function<std::string()> render);
  ~MetricsHttpServer();

  int port() const { return port_; }

 private:
  MetricsHttpServer(int fd, int port, std::function<std::string()> render);
  void Serve();
  void Answer(int client);

  int listen_fd_;
  int port_;
  std::function<std::string()> render_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace vlsm

#endif  // VLSM_SERVER_METRICS_HTTP_H_
