// The "polyp" dataset, a colonoscopy look-alike the shapes model never saw:
// a circular field of view with vignetting and black corners, reddish-orange
// mucosa with blotchy shading, darker vessel-like lines and specular glints,
// and 1-2 pink or red polyps: irregular, noise-perturbed ellipses shaded as
// domes with specular highlights. One target per image: all its polyps.
// Prompts are true of the pixels (size from the bounding box, position from
// the centroid's thirds, colour from the polyp's tint), e.g.
//   p0 "polyp", p1 ["a polyp", "colon polyp", ...], p2 "a small pink polyp",
//   p3 "a large polyp at the bottom left", p4 ["a raised lesion in the colon", ...]
//
// Ownership: returns new images. Threading: safe with one Rng per thread.
// Errors: none; size >= 32 is the caller's contract.
#ifndef VLSM_MODEL_DATAGEN_POLYP_H_
#define VLSM_MODEL_DATAGEN_POLYP_H_

#include "model/datagen_random.h"
#include "model/datagen_scene.h"

namespace vlsm::datagen {

// Size words for one polyp: bounding-box side / image side.
inline constexpr double kPolypSmallBelow = 0.25;
inline constexpr double kPolypLargeAbove = 0.38;

Sample GeneratePolyp(Rng& rng, int size);

}  // namespace vlsm::datagen

#endif  // VLSM_MODEL_DATAGEN_POLYP_H_
