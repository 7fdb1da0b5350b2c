// The "shapes" dataset: 2-5 flat-coloured shapes (circle, square, triangle,
// ring, star, cross) of three sizes on flat, gradient, blotchy or noisy
// backgrounds. Each target is one shape, and every prompt names it
// unambiguously in its image: no two shapes share colour and kind, and p0
// (the bare kind) is used only when the kind is unique.
//   p0: "circle"                      (else "red circle" when kinds repeat)
//   p1: ["the red circle", "red circle", "a red circle"]
//   p2: ["small red circle at the top left", "the small ..."]
// Size words come from the mask's bounding box (see kShape*), position words
// from its centroid's thirds; shapes never overlap.
//
// Ownership: returns new images. Threading: safe with one Rng per thread.
// Errors: none; size >= 32 is the caller's contract.
#ifndef VLSM_MODEL_DATAGEN_SHAPES_H_
#define VLSM_MODEL_DATAGEN_SHAPES_H_

#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "model/datagen_random.h"
#include "model/datagen_scene.h"

namespace vlsm::datagen {

struct NamedColour {
  std::string name;
  cv::Vec3f bgr;
};
// The colours shapes are painted in (each drawn within +-12 per channel).
const std::vector<NamedColour>& ShapeColours();
const std::vector<std::string>& ShapeKinds();

// Size words: bounding-box side / image side below / above these.
inline constexpr double kShapeSmallBelow = 0.2;
inline constexpr double kShapeLargeAbove = 0.3;

// One image; its targets are up to max_targets of its shapes.
Sample GenerateShapes(Rng& rng, int size, int max_targets);

}  // namespace vlsm::datagen

#endif  // VLSM_MODEL_DATAGEN_SHAPES_H_
