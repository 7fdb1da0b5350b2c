#include "server/engine_executor.h"

#include <utility>
#include <vector>

namespace vlsm {

DynamicBatcher::Executor MakeEngineExecutor(const Engine* engine, AdapterRegistry* registry) {
  return [engine, registry](const std::vector<const BatchTask*>& tasks)
             -> absl::StatusOr<std::vector<std::vector<HostTensor>>> {
    std::vector<HostTensor> images;
    std::vector<SegmentQuery> queries;
    images.reserve(tasks.size());
    for (size_t i = 0; i < tasks.size(); ++i) {
      const BatchTask& task = *tasks[i];
      images.push_back(task.image);
      std::shared_ptr<const Adapter> adapter;
      if (task.adapter != nullptr && registry != nullptr) {
        auto device = registry->AcquireDevice(*task.adapter);
        if (!device.ok()) return device.status();
        adapter = *std::move(device);
      } else if (task.adapter != nullptr) {
        adapter = task.adapter->adapter;
      }
      for (const Prompt& prompt : task.prompts) {
        queries.push_back(SegmentQuery{i, prompt, adapter});
      }
    }
    absl::StatusOr<std::vector<HostTensor>> logits = engine->Segment(images, queries);
    if (!logits.ok()) return logits.status();
    if (logits->size() != queries.size()) {
      return absl::InternalError("Engine::Segment returned the wrong number of logit maps");
    }
    std::vector<std::vector<HostTensor>> per_task(tasks.size());
    size_t next = 0;
    for (size_t i = 0; i < tasks.size(); ++i) {
      per_task[i].reserve(tasks[i]->prompts.size());
      for (size_t j = 0; j < tasks[i]->prompts.size(); ++j) {
        per_task[i].push_back(std::move((*logits)[next++]));
      }
    }
    return per_task;
  };
}

}  // namespace vlsm
