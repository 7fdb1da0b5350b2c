#include "model/datagen_shapes.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "model/datagen_texture.h"

namespace vlsm::datagen {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kShift = 4;  // OpenCV fixed-point fraction bits for sub-pixel drawing
constexpr double kFixed = 1 << kShift;

struct Placed {
  std::string kind;
  int colour = 0;
  cv::Point2d center;
  double bound = 0;  // bounding-circle radius, pixels
  cv::Mat1b mask;
};

cv::Point Fixed(cv::Point2d p) {
  return cv::Point(static_cast<int>(std::lround(p.x * kFixed)),
                   static_cast<int>(std::lround(p.y * kFixed)));
}

// Vertices on a circle: count points at radius r, starting at angle a0.
std::vector<cv::Point> Regular(cv::Point2d c, int count, double r, double a0) {
  std::vector<cv::Point> pts;
  for (int i = 0; i < count; ++i) {
    const double a = a0 + 2 * kPi * i / count;
    pts.push_back(Fixed({c.x + r * std::cos(a), c.y + r * std::sin(a)}));
  }
  return pts;
}

void FillPolygon(const std::vector<cv::Point>& pts, cv::Mat1b& mask) {
  cv::fillPoly(mask, std::vector<std::vector<cv::Point>>{pts}, cv::Scalar(255), cv::LINE_8, kShift);
}

// Draws kind at c with nominal radius r; returns its bounding-circle radius.
double DrawShape(Rng& rng, const std::string& kind, cv::Point2d c, double r, cv::Mat1b& mask) {
  const int rf = static_cast<int>(std::lround(r * kFixed));
  if (kind == "circle") {
    cv::circle(mask, Fixed(c), rf, cv::Scalar(255), cv::FILLED, cv::LINE_8, kShift);
    return r;
  }
  if (kind == "ring") {
    const double inner = r * rng.Uniform(0.5, 0.62);
    cv::circle(mask, Fixed(c), rf, cv::Scalar(255), cv::FILLED, cv::LINE_8, kShift);
    cv::circle(mask, Fixed(c), static_cast<int>(std::lround(inner * kFixed)), cv::Scalar(0),
               cv::FILLED, cv::LINE_8, kShift);
    return r;
  }
  if (kind == "square") {
    const double half_diag = 0.9 * r * std::sqrt(2.0);
    FillPolygon(Regular(c, 4, half_diag, kPi / 4 + rng.Uniform(-0.25, 0.25)), mask);
    return half_diag;
  }
  if (kind == "triangle") {
    const double R = 1.15 * r;
    FillPolygon(Regular(c, 3, R, -kPi / 2 + rng.Uniform(-0.3, 0.3)), mask);
    return R;
  }
  if (kind == "star") {
    const double outer = 1.1 * r, inner = outer * rng.Uniform(0.42, 0.5);
    const double a0 = -kPi / 2 + rng.Uniform(-0.3, 0.3);
    std::vector<cv::Point> pts;
    for (int i = 0; i < 10; ++i) {
      const double a = a0 + kPi * i / 5, rad = (i % 2 == 0) ? outer : inner;
      pts.push_back(Fixed({c.x + rad * std::cos(a), c.y + rad * std::sin(a)}));
    }
    FillPolygon(pts, mask);
    return outer;
  }
  // cross: a plus sign, arms of half-width w and length r, slightly rotated.
  const double w = r * rng.Uniform(0.3, 0.38), a = rng.Uniform(-0.25, 0.25);
  const double ca = std::cos(a), sa = std::sin(a);
  const double local[12][2] = {{-w, -r}, {w, -r}, {w, -w}, {r, -w}, {r, w},   {w, w},
                               {w, r},   {-w, r}, {-w, w}, {-r, w}, {-r, -w}, {-w, -w}};
  std::vector<cv::Point> pts;
  for (const auto& p : local) {
    pts.push_back(Fixed({c.x + p[0] * ca - p[1] * sa, c.y + p[0] * sa + p[1] * ca}));
  }
  FillPolygon(pts, mask);
  return std::hypot(r, w);
}

// A muted colour: stays far from the saturated, white and black shape colours.
cv::Vec3f MutedColour(Rng& rng) {
  const double g = rng.Uniform(85, 165);
  return cv::Vec3f(static_cast<float>(g + rng.Uniform(-22, 22)),
                   static_cast<float>(g + rng.Uniform(-22, 22)),
                   static_cast<float>(g + rng.Uniform(-22, 22)));
}

cv::Mat3f Background(Rng& rng, int size) {
  const int style = rng.UniformInt(0, 3);  // flat, gradient, blotchy, noisy
  const cv::Vec3f a = MutedColour(rng), b = MutedColour(rng);
  const double angle = rng.Uniform(0, 2 * kPi);
  const double dx = std::cos(angle), dy = std::sin(angle);
  cv::Mat1f blotch = style == 2 ? SmoothNoise(rng, size, rng.UniformInt(3, 6)) : cv::Mat1f();
  cv::Mat3f bg(size, size);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      if (style == 1) {
        // Projection on the gradient direction, mapped to [0, 1].
        const double t = 0.5 + ((x - size / 2.0) * dx + (y - size / 2.0) * dy) / (1.42 * size);
        bg(y, x) = a * static_cast<float>(1 - t) + b * static_cast<float>(t);
      } else if (style == 2) {
        bg(y, x) = a * (0.8f + 0.4f * blotch(y, x));
      } else {
        bg(y, x) = a;
      }
    }
  }
  if (style == 3) AddGaussianNoise(rng, rng.Uniform(4, 10), bg);
  return bg;
}

bool NearThirdLine(double v, int size) {
  const double margin = 0.03 * size;
  return std::abs(v - size / 3.0) < margin || std::abs(v - 2.0 * size / 3.0) < margin;
}

}  // namespace

const std::vector<NamedColour>& ShapeColours() {
  static const auto* const kColours = new std::vector<NamedColour>{
      {"red", Rgb(215, 35, 35)},     {"green", Rgb(35, 160, 55)},   {"blue", Rgb(35, 75, 215)},
      {"yellow", Rgb(235, 205, 30)}, {"orange", Rgb(245, 135, 25)}, {"purple", Rgb(135, 55, 185)},
      {"pink", Rgb(250, 120, 185)},  {"white", Rgb(245, 245, 245)}, {"black", Rgb(25, 25, 25)},
  };
  return *kColours;
}

const std::vector<std::string>& ShapeKinds() {
  static const auto* const kKinds =
      new std::vector<std::string>{"circle", "square", "triangle", "ring", "star", "cross"};
  return *kKinds;
}

Sample GenerateShapes(Rng& rng, int size, int max_targets) {
  cv::Mat3f image = Background(rng, size);
  const cv::Mat3f background = image.clone();
  // Size classes drawn up front and placed largest first, so large shapes
  // are not starved of room by small ones.
  std::vector<int> classes(rng.UniformInt(2, 5));
  for (int& c : classes) c = rng.UniformInt(0, 2);
  std::sort(classes.rbegin(), classes.rend());
  std::vector<Placed> shapes;
  int failures = 0;  // since the last shape was placed
  for (int attempt = 0; attempt < 400 && shapes.size() < classes.size(); ++attempt, ++failures) {
    Placed s;
    s.kind = rng.Pick(ShapeKinds());
    s.colour = rng.UniformInt(0, static_cast<int>(ShapeColours().size()) - 1);
    // After 40 failed tries a shape drops to the next smaller class.
    const int size_class = std::max(0, classes[shapes.size()] - failures / 40);
    const double lo[3] = {0.055, 0.115, 0.175}, hi[3] = {0.08, 0.135, 0.21};
    const double r = size * rng.Uniform(lo[size_class], hi[size_class]);
    const double reach = 1.3 * r + 2;
    if (size - 2 * reach < 1) continue;
    s.center = {rng.Uniform(reach, size - reach), rng.Uniform(reach, size - reach)};
    // Keep centroids off the thirds' borders so position words are clear.
    if (NearThirdLine(s.center.x, size) || NearThirdLine(s.center.y, size)) continue;
    bool clash = false;
    for (const Placed& o : shapes) {
      clash |= (o.kind == s.kind && o.colour == s.colour) ||
               cv::norm(o.center - s.center) < reach + o.bound + 2;
    }
    const cv::Vec3f under = background(static_cast<int>(s.center.y), static_cast<int>(s.center.x));
    clash |= cv::norm(under - ShapeColours()[s.colour].bgr) < 90;  // must stand out
    if (clash) continue;
    s.mask = cv::Mat1b::zeros(size, size);
    s.bound = DrawShape(rng, s.kind, s.center, r, s.mask) + 2;
    shapes.push_back(std::move(s));
    failures = -1;
  }

  for (const Placed& s : shapes) {
    cv::Vec3f colour = ShapeColours()[s.colour].bgr;
    for (int c = 0; c < 3; ++c) colour[c] += static_cast<float>(rng.Uniform(-12, 12));
    image.setTo(cv::Scalar(colour[0], colour[1], colour[2]), s.mask);
  }
  if (rng.Bernoulli(0.5)) AddGaussianNoise(rng, rng.Uniform(1, 4), image);

  Sample sample;
  sample.image = ToBgr8(image);
  std::vector<int> order(shapes.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  for (int i = static_cast<int>(order.size()) - 1; i > 0; --i) {
    std::swap(order[i], order[rng.UniformInt(0, i)]);  // Fisher-Yates
  }
  for (int i = 0; i < std::min<int>(max_targets, order.size()); ++i) {
    const Placed& s = shapes[order[i]];
    const std::string& colour = ShapeColours()[s.colour].name;
    const int same_kind = static_cast<int>(std::count_if(
        shapes.begin(), shapes.end(), [&](const Placed& o) { return o.kind == s.kind; }));
    const MaskGeometry g = MeasureMask(s.mask);
    const std::string described =
        JoinWords({SizeWord(ClassifyExtent(g.extent, kShapeSmallBelow, kShapeLargeAbove)), colour,
                   s.kind, GridPhrase(Third(g.cy, size), Third(g.cx, size))});
    Target t;
    t.mask = s.mask;
    t.prompts["p0"] = same_kind == 1 ? s.kind : colour + " " + s.kind;
    t.prompts["p1"] = {"the " + colour + " " + s.kind, colour + " " + s.kind,
                       Article(colour) + " " + colour + " " + s.kind};
    t.prompts["p2"] = {described, "the " + described};
    sample.targets.push_back(std::move(t));
  }
  return sample;
}

}  // namespace vlsm::datagen
