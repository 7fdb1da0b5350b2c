#include "client/pacs_slice_order.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace vlsm::pacs {
namespace {

bool SameOrientation(const std::array<double, 6>& a, const std::array<double, 6>& b) {
  for (size_t i = 0; i < 6; ++i) {
    if (std::abs(a[i] - b[i]) > 1e-4) return false;
  }
  return true;
}

}  // namespace

std::vector<size_t> SliceOrder(const std::vector<SliceGeometry>& slices) {
  std::vector<size_t> order(slices.size());
  std::iota(order.begin(), order.end(), 0);
  if (slices.empty()) return order;

  bool volume = true;
  for (const SliceGeometry& s : slices) {
    if (!s.position || !s.orientation || !slices[0].orientation ||
        !SameOrientation(*s.orientation, *slices[0].orientation)) {
      volume = false;
      break;
    }
  }
  std::vector<double> along(slices.size(), 0.0);
  if (volume) {
    const std::array<double, 6>& o = *slices[0].orientation;
    const std::array<double, 3> normal = {o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5],
                                          o[0] * o[4] - o[1] * o[3]};
    for (size_t i = 0; i < slices.size(); ++i) {
      const std::array<double, 3>& p = *slices[i].position;
      along[i] = p[0] * normal[0] + p[1] * normal[1] + p[2] * normal[2];
    }
  }
  const auto number = [&](size_t i) {
    return slices[i].instance_number.value_or(std::numeric_limits<long>::max());
  };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (volume && along[a] != along[b]) return along[a] < along[b];
    return number(a) < number(b);
  });
  return order;
}

}  // namespace vlsm::pacs
