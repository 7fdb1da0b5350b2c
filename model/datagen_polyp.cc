#include "model/datagen_polyp.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "model/datagen_texture.h"

namespace vlsm::datagen {
namespace {

constexpr double kPi = 3.14159265358979323846;

// An irregular ellipse: radius(theta) = r0 * (1 + sum a_k cos(k theta + phi_k))
// in a frame rotated by `angle` and squeezed by `aspect` along its minor axis.
struct Blob {
  cv::Point2d center;
  double r0 = 0, aspect = 1, angle = 0;
  double amp[5] = {}, phase[5] = {};
  bool pink = true;
  cv::Vec3f tint;

  // Normalised radius: < 1 inside.
  double Rho(double x, double y) const {
    const double dx = x - center.x, dy = y - center.y;
    const double u = dx * std::cos(angle) + dy * std::sin(angle);
    const double v = (-dx * std::sin(angle) + dy * std::cos(angle)) / aspect;
    const double theta = std::atan2(v, u);
    double edge = 1;
    for (int k = 0; k < 5; ++k) edge += amp[k] * std::cos((k + 2) * theta + phase[k]);
    return std::hypot(u, v) / (r0 * edge);
  }
};

// Darker, thin, wandering lines: submucosal vessels.
void DrawVessels(Rng& rng, int size, cv::Mat1f& shade) {
  cv::Mat1f lines = cv::Mat1f::zeros(size, size);
  const int count = rng.UniformInt(3, 9);
  for (int i = 0; i < count; ++i) {
    cv::Point2d p(rng.Uniform(0, size), rng.Uniform(0, size));
    double heading = rng.Uniform(0, 2 * kPi);
    std::vector<cv::Point> path{cv::Point(static_cast<int>(p.x), static_cast<int>(p.y))};
    const int steps = rng.UniformInt(6, 16);
    for (int s = 0; s < steps; ++s) {
      heading += rng.Normal(0, 0.45);
      p += cv::Point2d(std::cos(heading), std::sin(heading)) * (size * 0.04);
      path.emplace_back(static_cast<int>(p.x), static_cast<int>(p.y));
    }
    cv::polylines(lines, path, false, cv::Scalar(rng.Uniform(0.25, 0.6)), 1, cv::LINE_8);
  }
  cv::GaussianBlur(lines, lines, cv::Size(3, 3), 0.7);
  shade -= lines;
}

void AddGlint(cv::Point2d at, double radius, double strength, cv::Mat3f& image) {
  const int r = static_cast<int>(std::ceil(radius * 3));
  for (int y = std::max(0, static_cast<int>(at.y) - r);
       y <= std::min(image.rows - 1, static_cast<int>(at.y) + r); ++y) {
    for (int x = std::max(0, static_cast<int>(at.x) - r);
         x <= std::min(image.cols - 1, static_cast<int>(at.x) + r); ++x) {
      const double d2 = (x - at.x) * (x - at.x) + (y - at.y) * (y - at.y);
      const float w = static_cast<float>(strength * std::exp(-d2 / (2 * radius * radius)));
      image(y, x) = image(y, x) * (1 - w) + cv::Vec3f(250, 250, 252) * w;
    }
  }
}

Blob RandomBlob(Rng& rng, int size, cv::Point2d fov_center, double fov_radius, bool large) {
  Blob b;
  b.r0 = size * (large ? rng.Uniform(0.17, 0.24) : rng.Uniform(0.06, 0.15));
  b.aspect = rng.Uniform(0.65, 1.0);
  b.angle = rng.Uniform(0, kPi);
  for (int k = 0; k < 5; ++k) {
    b.amp[k] = rng.Uniform(0, 0.09 / std::sqrt(k + 1.0));
    b.phase[k] = rng.Uniform(0, 2 * kPi);
  }
  const double reach = std::max(0.0, fov_radius - 1.1 * b.r0);
  const double a = rng.Uniform(0, 2 * kPi), d = reach * std::sqrt(rng.Uniform01());
  b.center = fov_center + cv::Point2d(std::cos(a), std::sin(a)) * d;
  b.pink = rng.Bernoulli(0.65);
  b.tint = b.pink ? Rgb(rng.Uniform(220, 245), rng.Uniform(120, 150), rng.Uniform(135, 165))
                  : Rgb(rng.Uniform(195, 225), rng.Uniform(40, 60), rng.Uniform(45, 65));
  return b;
}

std::string PositionPhrase(const MaskGeometry& g, int size) {
  return GridPhrase(Third(g.cy, size), Third(g.cx, size));
}

}  // namespace

Sample GeneratePolyp(Rng& rng, int size) {
  const cv::Point2d fov_center(size / 2.0 + rng.Uniform(-0.03, 0.03) * size,
                               size / 2.0 + rng.Uniform(-0.03, 0.03) * size);
  const double fov_radius = size * rng.Uniform(0.5, 0.6);

  // Mucosa: blotchy shading and vessels over a reddish-orange base.
  cv::Mat1f shade = SmoothNoise(rng, size, rng.UniformInt(2, 4)) * 0.3f + 0.75f;
  const cv::Mat1f fine = SmoothNoise(rng, size, size / 8);
  DrawVessels(rng, size, shade);
  const cv::Vec3f mucosa = Rgb(rng.Uniform(185, 215), rng.Uniform(80, 105), rng.Uniform(55, 80));

  const int count = rng.Bernoulli(0.25) ? 2 : 1;
  std::vector<Blob> blobs;
  for (int attempt = 0; attempt < 50 && static_cast<int>(blobs.size()) < count; ++attempt) {
    Blob b = RandomBlob(rng, size, fov_center, fov_radius, rng.Bernoulli(count == 1 ? 0.4 : 0.15));
    bool clash = false;
    for (const Blob& o : blobs) clash |= cv::norm(o.center - b.center) < 1.5 * (o.r0 + b.r0);
    if (!clash) blobs.push_back(b);
  }
  const double light = rng.Uniform(-kPi, 0);  // light from above, varying side
  const double lx = std::cos(light), ly = std::sin(light);

  cv::Mat3f image(size, size);
  cv::Mat1b mask = cv::Mat1b::zeros(size, size);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      cv::Vec3f p = mucosa * (shade(y, x) * (0.93f + 0.14f * fine(y, x)));
      for (const Blob& b : blobs) {
        const double rho = b.Rho(x, y);
        if (rho < 1) {
          // A dome: brighter at its top (z) and on the side facing the light.
          const double z = std::sqrt(std::max(0.0, 1 - rho * rho));
          const double toward = ((x - b.center.x) * lx + (y - b.center.y) * ly) / b.r0;
          const double lit = 0.6 + 0.3 * z + 0.15 * toward;
          p = b.tint * static_cast<float>(lit * (0.95 + 0.1 * fine(y, x)));
          mask(y, x) = 255;
        } else if (rho < 1.18) {
          p *= static_cast<float>(0.7 + 0.3 * (rho - 1) / 0.18);  // contact shadow
        }
      }
      // Vignetting towards the rim of the field of view; black outside it.
      const double d = cv::norm(cv::Point2d(x, y) - fov_center) / fov_radius;
      const double vignette = d < 1 ? 1 - 0.55 * d * d : 0;
      image(y, x) = p * static_cast<float>(vignette);
      if (d >= 1) mask(y, x) = 0;
    }
  }
  for (const Blob& b : blobs) {
    const int glints = rng.UniformInt(1, 3);
    for (int i = 0; i < glints; ++i) {
      const double r = b.r0 * rng.Uniform(0.15, 0.5);
      AddGlint(b.center + cv::Point2d(lx, ly) * r + cv::Point2d(rng.Normal(0, 1), rng.Normal(0, 1)),
               size * rng.Uniform(0.008, 0.02), rng.Uniform(0.6, 0.95), image);
    }
  }
  for (int i = rng.UniformInt(0, 5); i > 0; --i) {  // glints on wet mucosa
    const double a = rng.Uniform(0, 2 * kPi), d = fov_radius * std::sqrt(rng.Uniform01()) * 0.9;
    AddGlint(fov_center + cv::Point2d(std::cos(a), std::sin(a)) * d,
             size * rng.Uniform(0.005, 0.012), rng.Uniform(0.4, 0.8), image);
  }
  AddGaussianNoise(rng, rng.Uniform(1.5, 4), image);

  Sample sample;
  sample.image = ToBgr8(image);
  Target t;
  t.mask = mask;
  const MaskGeometry g = MeasureMask(mask);
  const bool all_pink =
      std::all_of(blobs.begin(), blobs.end(), [](const Blob& b) { return b.pink; });
  const bool all_red =
      std::none_of(blobs.begin(), blobs.end(), [](const Blob& b) { return b.pink; });
  const std::string colour = all_pink ? "pink" : all_red ? "red" : "";
  if (blobs.size() == 1) {
    const std::string size_word =
        SizeWord(ClassifyExtent(g.extent, kPolypSmallBelow, kPolypLargeAbove));
    const std::string described = JoinWords({size_word, colour, "polyp"});
    const std::string placed = JoinWords({size_word, "polyp", PositionPhrase(g, size)});
    t.prompts["p0"] = "polyp";
    t.prompts["p1"] = {"a polyp", "the polyp", "colon polyp", "polyp in the colon"};
    t.prompts["p2"] = Article(described) + " " + described;
    t.prompts["p3"] = Article(placed) + " " + placed;
    t.prompts["p4"] = {"a raised lesion in the colon", "colorectal polyp",
                       "a " + JoinWords({colour, "bump on the colon wall"})};
  } else {
    t.prompts["p0"] = "polyps";
    t.prompts["p1"] = {"two polyps", "the polyps", "colon polyps", "polyps in the colon"};
    t.prompts["p2"] = "two " + JoinWords({colour, "polyps"});
    t.prompts["p3"] = {"both polyps", "all polyps"};
    t.prompts["p4"] = {"raised lesions in the colon", "colorectal polyps"};
  }
  sample.targets.push_back(std::move(t));
  return sample;
}

}  // namespace vlsm::datagen
