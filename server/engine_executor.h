// Adapts the Engine to the DynamicBatcher: one batch becomes one
// Engine::Segment call.
//
// Ownership: the executor borrows `engine` (and `registry`), which must
// outlive every batcher that uses it. Each call copies the tasks' images into the Segment call's
// image list (the tasks stay const and owned by the batcher).
// Threading: the executor is stateless apart from the engine pointer and may
// run on many batcher workers at once (Engine::Segment is thread-safe).
// Errors: the engine's status for the whole batch (e.g. InvalidArgument for
// bad shapes or token ids); INTERNAL if it returns the wrong number of maps.
#ifndef VLSM_SERVER_ENGINE_EXECUTOR_H_
#define VLSM_SERVER_ENGINE_EXECUTOR_H_

#include "model/engine.h"
#include "server/batcher.h"

namespace vlsm {

// One image per task and one SegmentQuery per prompt, with the task's
// adapter (null: the base model); splits the flat result back per task.
// With a `registry`, each adapter's device copy comes from
// AdapterRegistry::AcquireDevice (reloaded there if it was offloaded; a
// failed reload fails the batch); without one, the version's own copy runs.
DynamicBatcher::Executor MakeEngineExecutor(const Engine* engine,
                                            AdapterRegistry* registry = nullptr);

}  // namespace vlsm

#endif  // VLSM_SERVER_ENGINE_EXECUTOR_H_
