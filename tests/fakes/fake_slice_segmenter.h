// A SliceSegmenter for tests: answers with a fixed status, or with one mask
// per (prompt, slice): prompt k marks a (k+1)*4 pixel square in the top-left
// corner, so frames differ per prompt. Records the slices it was given.
#ifndef VLSM_TESTS_FAKES_FAKE_SLICE_SEGMENTER_H_
#define VLSM_TESTS_FAKES_FAKE_SLICE_SEGMENTER_H_

#include <string>
#include <vector>

#include "client/pacs_segmenter.h"

namespace vlsm::pacs {

class FakeSliceSegmenter : public SliceSegmenter {
 public:
  absl::StatusOr<SeriesMasks> Segment(const std::vector<SliceInput>& slices,
                                      const Route& route) override {
    ++calls;
    seen.clear();
    for (const SliceInput& s : slices) seen.emplace_back(s.part10);
    if (!status.ok()) return status;
    SeriesMasks out;
    out.task = task;
    out.adapter_version = adapter_version;
    for (size_t k = 0; k < route.prompts.size(); ++k) {
      PromptMasks p;
      p.prompt = route.prompts[k];
      for (const SliceInput& s : slices) {
        std::vector<uint8_t> mask(static_cast<size_t>(s.rows * s.cols), 0);
        const long side = static_cast<long>(k + 1) * 4;
        for (long r = 0; r < side && r < s.rows; ++r) {
          for (long c = 0; c < side && c < s.cols; ++c) mask[r * s.cols + c] = 1;
        }
        p.frames.push_back(std::move(mask));
      }
      out.prompts.push_back(std::move(p));
    }
    return out;
  }

  absl::Status status;  // non-OK: returned instead of masks
  std::string task = "liver";
  uint64_t adapter_version = 3;
  int calls = 0;
  std::vector<std::string> seen;  // Part 10 bytes of the last call, in order
};

}  // namespace vlsm::pacs

#endif  // VLSM_TESTS_FAKES_FAKE_SLICE_SEGMENTER_H_
