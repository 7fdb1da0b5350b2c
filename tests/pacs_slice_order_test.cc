#include "client/pacs_slice_order.h"

#include "gtest/gtest.h"

namespace vlsm::pacs {
namespace {

SliceGeometry At(double x, double y, double z, std::array<double, 6> o, long number) {
  SliceGeometry g;
  g.position = std::array<double, 3>{x, y, z};
  g.orientation = o;
  g.instance_number = number;
  return g;
}

constexpr std::array<double, 6> kAxial = {1, 0, 0, 0, 1, 0};      // normal +z
constexpr std::array<double, 6> kSagittal = {0, 1, 0, 0, 0, -1};  // normal -x

TEST(PacsSliceOrder, AxialByZNotByInstanceNumber) {
  // Instance numbers deliberately disagree with the geometry.
  const std::vector<SliceGeometry> s = {At(0, 0, 5, kAxial, 1), At(0, 0, -5, kAxial, 2),
                                        At(0, 0, 0, kAxial, 3)};
  EXPECT_EQ(SliceOrder(s), (std::vector<size_t>{1, 2, 0}));
}

TEST(PacsSliceOrder, SagittalAlongItsNormal) {
  // normal = row x col = (0,1,0) x (0,0,-1) = (-1, 0, 0): larger x comes first.
  const std::vector<SliceGeometry> s = {At(-10, 0, 0, kSagittal, 1), At(10, 0, 0, kSagittal, 2),
                                        At(0, 0, 0, kSagittal, 3)};
  EXPECT_EQ(SliceOrder(s), (std::vector<size_t>{1, 2, 0}));
}

TEST(PacsSliceOrder, ObliqueUsesTheProjectionNotOneAxis) {
  const double c = 0.7071067811865476;
  const std::array<double, 6> oblique = {1, 0, 0, 0, c, -c};  // normal (0, c, c)
  // Positions step along the normal while z alone would order them otherwise.
  const std::vector<SliceGeometry> s = {At(0, 3, -1, oblique, 1), At(0, 0, 0, oblique, 2),
                                        At(0, 1, 0.5, oblique, 3)};
  EXPECT_EQ(SliceOrder(s), (std::vector<size_t>{1, 2, 0}));
}

TEST(PacsSliceOrder, TiesByInstanceNumber) {
  const std::vector<SliceGeometry> s = {At(0, 0, 1, kAxial, 9), At(0, 0, 1, kAxial, 4),
                                        At(0, 0, 0, kAxial, 7)};
  EXPECT_EQ(SliceOrder(s), (std::vector<size_t>{2, 1, 0}));
}

TEST(PacsSliceOrder, MissingPositionFallsBackToInstanceNumber) {
  std::vector<SliceGeometry> s = {At(0, 0, -5, kAxial, 3), At(0, 0, 5, kAxial, 1),
                                  At(0, 0, 0, kAxial, 2)};
  s[2].position.reset();
  EXPECT_EQ(SliceOrder(s), (std::vector<size_t>{1, 2, 0}));
}

TEST(PacsSliceOrder, MixedOrientationFallsBackToInstanceNumber) {
  const std::vector<SliceGeometry> s = {At(0, 0, -5, kAxial, 2), At(0, 0, 5, kSagittal, 1)};
  EXPECT_EQ(SliceOrder(s), (std::vector<size_t>{1, 0}));
}

TEST(PacsSliceOrder, NoGeometryAtAllKeepsInputOrderForUnnumbered) {
  std::vector<SliceGeometry> s(3);
  s[1].instance_number = 1;
  EXPECT_EQ(SliceOrder(s), (std::vector<size_t>{1, 0, 2}));
  EXPECT_TRUE(SliceOrder({}).empty());
}

}  // namespace
}  // namespace vlsm::pacs
