// The "ultrasound" dataset, a B-mode look-alike the shapes model never saw:
// a sector (fan) field of view on black, multiplicative Rayleigh speckle
// correlated along the beam, bright tissue interfaces, depth attenuation and
// depth ticks, and one hypoechoic (dark) speckled ellipse with a perturbed
// outline, a brighter rim and posterior acoustic enhancement below it.
// One target per image: the ellipse. Prompts are true of the pixels, e.g.
//   p0 "tumour", p1 ["the tumour", "tumor", ...],
//   p2 "a dark oval tumour in the upper part" (+ "on the left/right"),
//   p3 ["hypoechoic lesion", ...], p4 "a small dark mass with a bright rim".
// Vertical words: the centroid's third of the image; "round" when the
// ellipse's minor/major axis ratio is above 0.85, else "oval".
//
// Ownership: returns new images. Threading: safe with one Rng per thread.
// Errors: none; size >= 32 is the caller's contract.
#ifndef VLSM_MODEL_DATAGEN_ULTRASOUND_H_
#define VLSM_MODEL_DATAGEN_ULTRASOUND_H_

#include <string>

#include "model/datagen_random.h"
#include "model/datagen_scene.h"

namespace vlsm::datagen {

inline constexpr double kLesionSmallBelow = 0.2;
inline constexpr double kLesionLargeAbove = 0.3;

// "in the upper part", "in the middle", "in the lower part".
std::string VerticalPhrase(int row);

Sample GenerateUltrasound(Rng& rng, int size);

}  // namespace vlsm::datagen

#endif  // VLSM_MODEL_DATAGEN_ULTRASOUND_H_
