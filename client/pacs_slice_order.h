// Orders the instances of a series as slices of a volume: by position along
// the slice normal (Image Position (Patient) . (row x column direction cosines
// of Image Orientation (Patient))), ascending; ties and instances without
// geometry by Instance Number, then by input order. When not every instance
// has a position and the same orientation (within 1e-4), the whole series is
// ordered by Instance Number instead (a stack without shared geometry is not
// a volume).
//
// Threading: pure function. Errors: none.
#ifndef VLSM_CLIENT_PACS_SLICE_ORDER_H_
#define VLSM_CLIENT_PACS_SLICE_ORDER_H_

#include <array>
#include <cstddef>
#include <optional>
#include <vector>

namespace vlsm::pacs {

struct SliceGeometry {
  std::optional<std::array<double, 3>> position;     // (0020,0032)
  std::optional<std::array<double, 6>> orientation;  // (0020,0037)
  std::optional<long> instance_number;               // (0020,0013)
};

// Indices into `slices` in slice order.
std::vector<size_t> SliceOrder(const std::vector<SliceGeometry>& slices);

}  // namespace vlsm::pacs

#endif  // VLSM_CLIENT_PACS_SLICE_ORDER_H_
