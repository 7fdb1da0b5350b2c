#include "model/datagen_ultrasound.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "model/datagen_texture.h"

namespace vlsm::datagen {
namespace {

constexpr double kPi = 3.14159265358979323846;

struct Fan {
  cv::Point2d apex;
  double half_angle = 0, r_in = 0, r_out = 0;

  // Polar coordinates from the apex; angle 0 points straight down.
  bool Contains(double x, double y, double* r = nullptr, double* theta = nullptr) const {
    const double dx = x - apex.x, dy = y - apex.y;
    const double rr = std::hypot(dx, dy), th = std::atan2(dx, dy);
    if (r) *r = rr;
    if (theta) *theta = th;
    return rr >= r_in && rr <= r_out && std::abs(th) <= half_angle;
  }
};

struct Lesion {
  cv::Point2d center;
  double a = 0, b = 0, angle = 0;  // semi-axes (a >= b), rotation
  double amp[3] = {}, phase[3] = {};

  double Rho(double x, double y) const {
    const double dx = x - center.x, dy = y - center.y;
    const double u = (dx * std::cos(angle) + dy * std::sin(angle)) / a;
    const double v = (-dx * std::sin(angle) + dy * std::cos(angle)) / b;
    const double theta = std::atan2(v, u);
    double edge = 1;
    for (int k = 0; k < 3; ++k) edge += amp[k] * std::cos((k + 3) * theta + phase[k]);
    return std::hypot(u, v) / edge;
  }
};

// Rayleigh amplitudes blurred along the beam's lateral direction (speckle
// cells are wider than deep), normalised to mean ~1.
cv::Mat1f Speckle(Rng& rng, int size) {
  cv::Mat1f raw(size, size);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) raw(y, x) = static_cast<float>(rng.Rayleigh() / 1.2533);
  }
  cv::Mat1f out;
  cv::GaussianBlur(raw, out, cv::Size(5, 3), 1.1, 0.5);
  // Blurring shrinks the spread; stretch it back around the mean.
  return (out - 1.0f) * 1.8f + 1.0f;
}

Lesion PlaceLesion(Rng& rng, int size, const Fan& fan) {
  Lesion l;
  for (int attempt = 0; attempt < 100; ++attempt) {
    l.a = size * rng.Uniform(0.06, 0.17);
    l.b = l.a * rng.Uniform(0.55, 0.98);
    l.angle = rng.Uniform(-0.5, 0.5);
    for (int k = 0; k < 3; ++k) {
      l.amp[k] = rng.Uniform(0, 0.05);
      l.phase[k] = rng.Uniform(0, 2 * kPi);
    }
    const double r = fan.r_in + (fan.r_out - fan.r_in) * rng.Uniform(0.12, 0.75);
    const double theta = rng.Uniform(-0.75, 0.75) * fan.half_angle;
    l.center = fan.apex + cv::Point2d(std::sin(theta), std::cos(theta)) * r;
    // Fully inside the fan: test points around its outline (with margin).
    bool inside = true;
    for (int i = 0; i < 24 && inside; ++i) {
      const double t = 2 * kPi * i / 24;
      const double u = 1.15 * l.a * std::cos(t), v = 1.15 * l.b * std::sin(t);
      inside = fan.Contains(l.center.x + u * std::cos(l.angle) - v * std::sin(l.angle),
                            l.center.y + u * std::sin(l.angle) + v * std::cos(l.angle));
    }
    if (inside) break;
  }
  return l;
}

}  // namespace

std::string VerticalPhrase(int row) {
  static const char* const kRows[3] = {"in the upper part", "in the middle", "in the lower part"};
  return kRows[std::clamp(row, 0, 2)];
}

Sample GenerateUltrasound(Rng& rng, int size) {
  Fan fan;
  fan.apex = {size / 2.0 + rng.Uniform(-0.02, 0.02) * size, -size * rng.Uniform(0.06, 0.14)};
  fan.half_angle = rng.Uniform(0.55, 0.72);
  fan.r_in = size * rng.Uniform(0.16, 0.22);  // from the apex, which lies above the image
  fan.r_out = size * rng.Uniform(1.0, 1.08);
  const Lesion lesion = PlaceLesion(rng, size, fan);

  const cv::Mat1f speckle = Speckle(rng, size);
  const cv::Mat1f texture = SmoothNoise(rng, size, rng.UniformInt(3, 5));
  const int interfaces = rng.UniformInt(2, 4);
  double depth[4], wobble[4], tilt[4];
  for (int k = 0; k < interfaces; ++k) {
    depth[k] = fan.r_in + (fan.r_out - fan.r_in) * rng.Uniform(0.05, 0.9);
    wobble[k] = rng.Uniform(0, 2 * kPi);
    tilt[k] = rng.Uniform(-0.15, 0.15) * size;
  }
  const double attenuation = rng.Uniform(0.5, 1.2);
  const double darkness = rng.Uniform(0.1, 0.35), rim = rng.Uniform(0.3, 0.9);
  const double enhancement = rng.Uniform(0.3, 0.7), gain = rng.Uniform(0.7, 0.9);

  cv::Mat1f intensity = cv::Mat1f::zeros(size, size);
  cv::Mat1b mask = cv::Mat1b::zeros(size, size);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      double r = 0, theta = 0;
      if (!fan.Contains(x, y, &r, &theta)) continue;
      double echo = 0.4 + 0.35 * texture(y, x);
      for (int k = 0; k < interfaces; ++k) {
        const double at =
            depth[k] + tilt[k] * theta + 0.02 * size * std::sin(4 * theta + wobble[k]);
        echo += 0.45 * std::exp(-std::pow((r - at) / (0.012 * size), 2));
      }
      const double rho = lesion.Rho(x, y);
      if (rho < 1) {
        echo *= darkness;
        mask(y, x) = 255;
      } else {
        if (rho < 1.12) echo *= 1 + rim * (1 - (rho - 1) / 0.12);
        // Posterior acoustic enhancement: the beam passed through fluid-like tissue.
        const double lateral = (x - lesion.center.x) / (lesion.a * 0.9);
        const double below = y - lesion.center.y;
        if (below > 0) {
          echo *=
              1 + enhancement * std::exp(-std::pow(lateral, 4)) * std::exp(-below / (0.45 * size));
        }
      }
      const double d = (r - fan.r_in) / (fan.r_out - fan.r_in);
      intensity(y, x) = static_cast<float>(echo * speckle(y, x) * std::exp(-attenuation * d));
    }
  }

  cv::Mat3f image(size, size);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      const float v =
          255.0f * static_cast<float>(std::pow(std::min(1.0, intensity(y, x) * gain), 0.85));
      image(y, x) = cv::Vec3f(v, v, v);
    }
  }
  // Depth ticks just outside the right edge of the sector.
  for (double r = fan.r_in; r < fan.r_out; r += 0.1 * size) {
    const double t = fan.half_angle + 0.05;
    const cv::Point p(static_cast<int>(fan.apex.x + r * std::sin(t)),
                      static_cast<int>(fan.apex.y + r * std::cos(t)));
    if (p.x >= 0 && p.y >= 0 && p.x < size && p.y < size) image(p) = cv::Vec3f(200, 200, 200);
  }

  Sample sample;
  sample.image = ToBgr8(image);
  const MaskGeometry g = MeasureMask(mask);
  const std::string outline = lesion.b / lesion.a > 0.85 ? "round" : "oval";
  const int col = Third(g.cx, size);
  const std::string side = col == 0 ? "on the left" : col == 2 ? "on the right" : "";
  const std::string size_word =
      SizeWord(ClassifyExtent(g.extent, kLesionSmallBelow, kLesionLargeAbove));
  Target t;
  t.mask = mask;
  t.prompts["p0"] = "tumour";
  t.prompts["p1"] = {"the tumour", "tumor", "a tumour", "the tumor"};
  t.prompts["p2"] =
      JoinWords({"a dark", outline, "tumour", VerticalPhrase(Third(g.cy, size)), side});
  t.prompts["p3"] = {"hypoechoic lesion", "a hypoechoic mass", "dark lesion"};
  t.prompts["p4"] = JoinWords({"a", size_word, "dark mass with a bright rim"});
  sample.targets.push_back(std::move(t));
  return sample;
}

}  // namespace vlsm::datagen
