// vlsm-bench serve: a closed-loop gRPC load generator for vlsm-server.
//
// N clients each send Segment requests back to back (one image, one prompt,
// a task from the mix) for a duration or a request count, optionally while
// an admin thread uploads adapter versions and swaps a label. Either against
// a running server (--target) or against a VlsmServer started in this
// process on --model. Prints one JSON object: throughput, client latency
// percentiles, the server's own queue/compute/total timings from the
// responses, the overhead over compute, errors by status code, admin ops.
// In process with --paired, each request is preceded by the same work
// through the in-process Pipeline (decode, preprocess, engine, mask, PNG),
// so the gRPC + batching overhead is measured pair by pair, under the same
// machine load.
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "model/blas_runtime.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "model/fingerprint.h"
#include "model/mask.h"
#include "model/pipeline.h"
#include "nlohmann/json.hpp"
#include "server/bench_serve_support.h"
#include "server/server_builder.h"
#include "vlsm/v1/segmentation.grpc.pb.h"

ABSL_DECLARE_FLAG(std::string, model);
ABSL_DECLARE_FLAG(int, threads);
ABSL_DECLARE_FLAG(std::string, device);
ABSL_DECLARE_FLAG(std::string, dtype);

ABSL_FLAG(std::string, target, "",
          "serve: HOST:PORT of a running vlsm-server (default: start one in process on --model)");
ABSL_FLAG(int, clients, 16, "serve: concurrent closed-loop clients");
ABSL_FLAG(double, duration_s, 10, "serve: measured seconds (after --warmup_s)");
ABSL_FLAG(double, warmup_s, 2, "serve: unmeasured seconds of load first");
ABSL_FLAG(int, requests, 0, "serve: if > 0, measure this many requests instead of a duration");
ABSL_FLAG(std::string, tasks, "base",
          "serve: comma-separated task mix, cycled per client ('base' = the base model; "
          "'bench@stable' = the uploaded --adapter_file)");
ABSL_DECLARE_FLAG(std::string, image);  // model/bench_image.cc
ABSL_FLAG(std::string, prompt, "a round polyp", "serve: the prompt of every request");
ABSL_FLAG(int, raw_size, 0,
          "serve: if > 0, send raw uint8 RGB pixels of this side instead of an encoded image, "
          "and ask for RLE masks at the model's size (measures the serving path without image "
          "codecs; --paired needs an encoded image)");
ABSL_FLAG(std::string, adapter_file, "",
          "serve: adapter uploaded as task 'bench' (label 'stable') before the load, and by "
          "--admin_ops");
ABSL_FLAG(int, admin_ops, 0,
          "serve: adapter uploads and label swaps (alternating) of task 'bench' during the "
          "load; the load lasts until they are done");
ABSL_FLAG(std::string, admin_token, "", "serve: bearer token for admin RPCs with --target");
ABSL_FLAG(int, max_batch_size, 8, "serve (in process): --max_batch_size of the server");
ABSL_FLAG(int, max_queue_delay_ms, 2, "serve (in process): --max_queue_delay_ms");
ABSL_FLAG(int, max_queue_size, 256, "serve (in process): --max_queue_size");
ABSL_FLAG(int, cpu_workers, 4, "serve (in process): --cpu_workers");
ABSL_FLAG(bool, paired, false,
          "serve (in process): before each request, run the same request through the "
          "in-process Pipeline and time both; reports the gRPC + batching overhead per pair "
          "(use with --clients 1, --max_queue_delay_ms 0)");

namespace vlsm {
namespace {

using SteadyClock = std::chrono::steady_clock;
using json = nlohmann::json;

double Ms(SteadyClock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

json Percentiles(std::vector<double> v) {
  if (v.empty()) return json::object();
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))]; };
  double sum = 0;
  for (double x : v) sum += x;
  return {{"p50", at(0.50)},
          {"p90", at(0.90)},
          {"p99", at(0.99)},
          {"mean", sum / v.size()},
          {"max", v.back()}};
}

// A 352x352 gray PNG with some structure (a disc on a gradient).
std::string SyntheticPng() {
  const int side = 352;
  std::vector<uint8_t> pixels(side * side);
  for (int y = 0; y < side; ++y) {
    for (int x = 0; x < side; ++x) {
      const int dx = x - 176, dy = y - 150;
      pixels[y * side + x] = dx * dx + dy * dy < 60 * 60 ? 1 : 0;
    }
  }
  auto png = EncodeMaskPng(pixels, side, side);
  return png.ok() ? *png : std::string();
}

struct Sample {
  double latency_ms = 0, queue_ms = 0, compute_ms = 0, total_ms = 0;
  int batch = 0;
  // --paired: the same request in process just before (pipeline, engine).
  double pipeline_ms = -1, engine_ms = -1;
};

struct Results {
  std::mutex mu;
  std::vector<Sample> samples;
  std::map<std::string, int> errors;  // status code name -> count
};

}  // namespace

int RunServeBench() {
  std::string image = SyntheticPng();
  if (!absl::GetFlag(FLAGS_image).empty()) {
    std::ifstream in(absl::GetFlag(FLAGS_image), std::ios::binary);
    if (!in) {
      std::cerr << "vlsm-bench serve: cannot read --image\n";
      return 2;
    }
    image.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::string adapter;
  if (!absl::GetFlag(FLAGS_adapter_file).empty()) {
    std::ifstream in(absl::GetFlag(FLAGS_adapter_file), std::ios::binary);
    if (!in) {
      std::cerr << "vlsm-bench serve: cannot read --adapter_file\n";
      return 2;
    }
    adapter.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const int admin_ops = absl::GetFlag(FLAGS_admin_ops);
  if (admin_ops > 0 && adapter.empty()) {
    std::cerr << "vlsm-bench serve: --admin_ops needs --adapter_file\n";
    return 2;
  }

  json out = {{"bench", "serve"}};
  std::unique_ptr<VlsmServer> server;
  std::shared_ptr<const Pipeline> pipeline;
  std::string target = absl::GetFlag(FLAGS_target);
  std::string token = absl::GetFlag(FLAGS_admin_token);
  std::string adapter_dir;
  if (target.empty()) {
    if (absl::GetFlag(FLAGS_model).empty()) {
      std::cerr << "vlsm-bench serve: give --model DIR (in process) or --target HOST:PORT\n";
      return 2;
    }
    EngineOptions engine;
    engine.device = absl::GetFlag(FLAGS_device);
    engine.dtype = absl::GetFlag(FLAGS_dtype);
    engine.num_threads = absl::GetFlag(FLAGS_threads);
    auto p = Pipeline::Create(absl::GetFlag(FLAGS_model), engine);
    if (!p.ok()) {
      std::cerr << "vlsm-bench serve: " << p.status() << "\n";
      return 1;
    }
    pipeline = *std::move(p);
    ServerOptions o;
    o.pipeline = pipeline;
    adapter_dir = absl::StrCat(std::filesystem::temp_directory_path().string(),
                               "/vlsm-bench-serve-", ::getpid());
    std::filesystem::remove_all(adapter_dir);
    o.adapter_dir = adapter_dir;
    o.address = "127.0.0.1:0";
    token = absl::StrCat("bench-", std::random_device()());
    o.admin_token = token;
    o.batcher.max_batch_size = absl::GetFlag(FLAGS_max_batch_size);
    o.batcher.max_queue_delay = absl::Milliseconds(absl::GetFlag(FLAGS_max_queue_delay_ms));
    o.batcher.max_queue_size = absl::GetFlag(FLAGS_max_queue_size);
    o.cpu_workers = absl::GetFlag(FLAGS_cpu_workers);
    auto s = VlsmServer::Start(std::move(o), nullptr);
    if (!s.ok()) {
      std::cerr << "vlsm-bench serve: " << s.status() << "\n";
      return 1;
    }
    server = *std::move(s);
    target = absl::StrCat("127.0.0.1:", server->port());
    out["server"] = {{"in_process", true},
                     {"max_batch_size", absl::GetFlag(FLAGS_max_batch_size)},
                     {"max_queue_delay_ms", absl::GetFlag(FLAGS_max_queue_delay_ms)},
                     {"cpu_workers", absl::GetFlag(FLAGS_cpu_workers)},
                     {"device", engine.device},
                     {"dtype", engine.dtype}};
  } else {
    out["server"] = {{"in_process", false}, {"target", target}};
  }

  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  auto channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  BenchAdmin admin(channel, token);
  uint64_t latest = 0;
  if (!adapter.empty()) {
    grpc::Status s = admin.Upload(adapter, "stable", &latest);
    if (!s.ok()) {
      std::cerr << "vlsm-bench serve: uploading --adapter_file: " << s.error_message() << "\n";
      return 1;
    }
  }

  std::vector<std::string> tasks;
  for (absl::string_view t : absl::StrSplit(absl::GetFlag(FLAGS_tasks), ',', absl::SkipEmpty())) {
    tasks.emplace_back(t == "base" ? "" : std::string(t));
  }
  if (tasks.empty()) tasks.emplace_back("");

  const int raw_side = absl::GetFlag(FLAGS_raw_size);
  std::string raw_pixels(static_cast<size_t>(std::max(raw_side, 0)) * std::max(raw_side, 0) * 3,
                         '\0');
  std::mt19937 rng(1);
  for (char& c : raw_pixels) c = static_cast<char>(rng() & 0xff);
  out["input"] = raw_side > 0 ? absl::StrCat("raw uint8 RGB ", raw_side, "x", raw_side,
                                             ", RLE masks at model size")
                              : absl::StrCat("encoded image, ", image.size(), " bytes, PNG masks");
  const int clients = std::max(1, absl::GetFlag(FLAGS_clients));
  const int max_requests = absl::GetFlag(FLAGS_requests);
  const auto warmup = std::chrono::duration<double>(absl::GetFlag(FLAGS_warmup_s));
  const auto duration = std::chrono::duration<double>(absl::GetFlag(FLAGS_duration_s));
  Results results;
  std::atomic<bool> admin_done{admin_ops == 0};
  std::atomic<int> admin_failed{0}, uploads{0}, swaps{0};
  std::atomic<int> measured_started{0};
  std::atomic<int64_t> measure_start_ns{0}, measure_end_ns{0};
  const auto t0 = SteadyClock::now();
  const auto measure_from = t0 + std::chrono::duration_cast<SteadyClock::duration>(warmup);
  auto now_ns = [] { return SteadyClock::now().time_since_epoch().count(); };

  auto client = [&](int id) {
    auto stub = v1::SegmentationService::NewStub(channel);
    for (int j = 0;; ++j) {
      const auto start = SteadyClock::now();
      const bool measured = start >= measure_from;
      if (measured) {
        if (max_requests > 0) {
          if (measured_started.fetch_add(1) >= max_requests) break;
        } else if (start >= measure_from + duration && admin_done.load()) {
          break;
        }
      }
      Sample sample;
      if (absl::GetFlag(FLAGS_paired) && pipeline != nullptr) {
        if (!InProcessOnce(*pipeline, image, absl::GetFlag(FLAGS_prompt), &sample.pipeline_ms,
                           &sample.engine_ms)
                 .ok()) {
          sample.pipeline_ms = sample.engine_ms = -1;
        }
      }
      const auto sent = SteadyClock::now();
      v1::SegmentRequest request;
      if (raw_side > 0) {
        v1::RawPixels* raw = request.mutable_image()->mutable_raw();
        raw->set_height(raw_side);
        raw->set_width(raw_side);
        raw->set_channels(3);
        raw->set_type(v1::UINT8);
        raw->set_data(raw_pixels);
        request.mutable_options()->set_mask_encoding(v1::RLE);
        request.mutable_options()->set_model_size(true);
      } else {
        request.mutable_image()->set_encoded(image);
      }
      request.add_prompts(absl::GetFlag(FLAGS_prompt));
      request.set_task(tasks[(id + j) % tasks.size()]);
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
      auto reader = stub->Segment(&ctx, request);
      int responses = 0;
      for (v1::SegmentResponse r; reader->Read(&r);) {
        ++responses;
        sample.queue_ms = r.timings().queue_ms();
        sample.compute_ms = r.timings().compute_ms();
        sample.total_ms = r.timings().total_ms();
        sample.batch = static_cast<int>(r.timings().batch_size());
      }
      grpc::Status s = reader->Finish();
      const auto end = SteadyClock::now();
      if (!measured) continue;
      sample.latency_ms = Ms(end - sent);
      std::lock_guard<std::mutex> lock(results.mu);
      if (s.ok() && responses == 1) {
        results.samples.push_back(sample);
      } else {
        const std::string code =
            s.ok() ? "WRONG_RESPONSE_COUNT"
                   : absl::StatusCodeToString(static_cast<absl::StatusCode>(s.error_code()));
        ++results.errors[code];
      }
    }
  };

  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) threads.emplace_back(client, i);
  std::thread admin_thread;
  if (admin_ops > 0) {
    admin_thread = std::thread([&] {
      std::this_thread::sleep_until(measure_from);  // under the measured load
      for (int i = 0; i < admin_ops; ++i) {
        grpc::Status s;
        if (i % 2 == 0) {
          s = admin.Upload(adapter, "", &latest);
          uploads += s.ok();
        } else {
          s = admin.SetLabel("stable", latest);
          swaps += s.ok();
        }
        admin_failed += !s.ok();
      }
      admin_done = true;
    });
  }
  // The measured window, for the throughput.
  std::this_thread::sleep_until(measure_from);
  measure_start_ns = now_ns();
  for (auto& t : threads) t.join();
  measure_end_ns = now_ns();
  if (admin_thread.joinable()) admin_thread.join();

  const double seconds = (measure_end_ns - measure_start_ns) / 1e9;
  std::vector<double> latency, queue, compute, total, overhead, batch;
  std::vector<double> pipeline_ms, engine_ms, over_pipeline, over_engine;
  for (const Sample& s : results.samples) {
    if (s.pipeline_ms >= 0) {
      pipeline_ms.push_back(s.pipeline_ms);
      engine_ms.push_back(s.engine_ms);
      over_pipeline.push_back(s.latency_ms - s.pipeline_ms);
      over_engine.push_back(s.latency_ms - s.engine_ms);
    }
    latency.push_back(s.latency_ms);
    queue.push_back(s.queue_ms);
    compute.push_back(s.compute_ms);
    total.push_back(s.total_ms);
    overhead.push_back(s.latency_ms - s.compute_ms);
    batch.push_back(s.batch);
  }
  int failed = 0;
  for (const auto& [code, n] : results.errors) failed += n;
  out["blas_core"] = DescribeBlas().core;  // kernels of small products (see blas_runtime.h)
  out["clients"] = clients;
  out["tasks"] = tasks;
  out["measured_s"] = seconds;
  out["requests_ok"] = results.samples.size();
  out["requests_failed"] = failed;
  out["errors"] = results.errors;
  out["throughput_rps"] = seconds > 0 ? results.samples.size() / seconds : 0;
  out["latency_ms"] = Percentiles(latency);
  out["server_queue_ms"] = Percentiles(queue);
  out["server_compute_ms"] = Percentiles(compute);
  out["server_total_ms"] = Percentiles(total);
  out["overhead_over_compute_ms"] = Percentiles(overhead);
  out["batch_size"] = Percentiles(batch);
  if (!pipeline_ms.empty()) {
    out["paired"] = {{"in_process_pipeline_ms", Percentiles(pipeline_ms)},
                     {"in_process_engine_ms", Percentiles(engine_ms)},
                     {"overhead_over_pipeline_ms", Percentiles(over_pipeline)},
                     {"overhead_over_engine_ms", Percentiles(over_engine)}};
  }
  if (admin_ops > 0) {
    out["admin"] = {{"ops", admin_ops},
                    {"uploads_ok", uploads.load()},
                    {"label_swaps_ok", swaps.load()},
                    {"failed", admin_failed.load()}};
  }
  std::cout << out.dump() << std::endl;
  if (server != nullptr) server->Shutdown(absl::Seconds(10));
  if (!adapter_dir.empty()) std::filesystem::remove_all(adapter_dir);
  return failed == 0 && admin_failed == 0 ? 0 : 1;
}

}  // namespace vlsm
