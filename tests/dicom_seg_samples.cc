// Writes sample SEGs made by BuildDicomSeg into a directory, with what each
// must contain (expect.json), for tests/dicom_seg_check.py to verify with
// dcmdump and pydicom: an independent reader of what DCMTK wrote.
//
// Usage: dicom_seg_samples OUT_DIR
#include <dcmtk/config/osconfig.h>  // must precede the other DCMTK headers

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "model/dicom_seg.h"
#include "nlohmann/json.hpp"
#include "tests/support/dicom_series.h"

namespace vlsm {
namespace {

using test_support::ReadFileBytes;
using test_support::SegData;

std::vector<uint8_t> Pattern(int rows, int cols, int seed) {
  std::vector<uint8_t> m(rows * cols);
  for (int i = 0; i < rows * cols; ++i) m[i] = ((i * 7 + seed * 13) % 5 == 0) ? 1 : 0;
  return m;
}

std::string Bits(const std::vector<uint8_t>& m) {
  std::string s;
  for (uint8_t v : m) s.push_back(v ? '1' : '0');
  return s;
}

struct Sample {
  std::string name;
  std::vector<std::string> sources;  // Part 10 bytes
  std::vector<SegSource> frames;     // empty: frame 0 of each source
  std::vector<SegSegment> segments;
  SegOptions options;
  bool geometry = true;
};

int Run(const std::string& dir) {
  SegProvenance provenance;
  provenance.algorithm_name = "CLIPSeg clipseg-tiny + polyp@3";
  provenance.algorithm_version = "vlsm-serve 0.1; adapter polyp@3";

  std::vector<Sample> samples;
  const std::string ct = ReadFileBytes(SegData("CT_small.dcm"));
  const std::string mr = ReadFileBytes(SegData("MR_small.dcm"));
  samples.push_back({"ct_small", {ct}, {}, {{"liver", {Pattern(128, 128, 1)}}}});
  // A non-ASCII prompt: the SEG is UTF-8 (ISO_IR 192); pydicom must read it back.
  samples.push_back(
      {"mr_small", {mr}, {}, {{"l\u00e9sion c\u00e9r\u00e9brale", {Pattern(64, 64, 2)}}}});
  {
    const auto slices = test_support::SynthesizeSeries(ct, 3, 5.0);
    std::vector<std::string> bytes;
    for (const auto& s : slices) bytes.push_back(s.bytes);
    const std::vector<uint8_t> empty(128 * 128, 0);
    std::vector<SegSegment> segs{{"liver", {Pattern(128, 128, 3), empty, Pattern(128, 128, 4)}},
                                 {"spleen", {empty, Pattern(128, 128, 5), empty}}};
    samples.push_back({"series_3", bytes, {}, segs});
    samples.push_back({"series_3_omit_empty", bytes, {}, segs, SegOptions{true}});
  }
  samples.push_back({"no_geometry",
                     {test_support::StripGeometry(ct, true)},
                     {},
                     {{"x", {Pattern(128, 128, 6)}}},
                     {},
                     false});
  samples.push_back({"sc_odd",
                     {ReadFileBytes(SegData("SC_rgb_small_odd.dcm"))},
                     {},
                     {{"a", {Pattern(3, 3, 7)}}, {"b", {Pattern(3, 3, 8)}}},
                     {},
                     false});
  {
    const std::string dose = ReadFileBytes(SegData("rtdose.dcm"));
    samples.push_back(
        {"multiframe", {dose}, {}, {{"a", {Pattern(10, 10, 9), Pattern(10, 10, 10)}}}});
  }

  nlohmann::json expect = nlohmann::json::object();
  for (Sample& s : samples) {
    std::vector<SegSource> sources;
    for (const std::string& b : s.sources) sources.push_back({b, 0});
    if (s.name == "multiframe") sources = {{s.sources[0], 0}, {s.sources[0], 1}};
    auto seg = BuildDicomSeg(sources, s.segments, provenance, s.options);
    if (!seg.ok()) {
      std::fprintf(stderr, "%s: %s\n", s.name.c_str(), seg.status().ToString().c_str());
      return 1;
    }
    std::ofstream(dir + "/" + s.name + ".dcm", std::ios::binary) << *seg;
    nlohmann::json frames = nlohmann::json::array();
    for (size_t k = 0; k < s.segments.size(); ++k) {
      bool all_empty = true;
      for (const auto& m : s.segments[k].frames)
        all_empty &= Bits(m).find('1') == std::string::npos;
      for (size_t i = 0; i < sources.size(); ++i) {
        const std::string bits = Bits(s.segments[k].frames[i]);
        const bool empty = bits.find('1') == std::string::npos;
        if (s.options.omit_empty_frames && empty && !(all_empty && i == 0)) continue;
        frames.push_back({{"segment", k + 1}, {"source", i}, {"bits", bits}});
      }
    }
    nlohmann::json labels = nlohmann::json::array();
    for (const SegSegment& seg_in : s.segments) labels.push_back(seg_in.label);
    expect[s.name] = {{"frames", frames},
                      {"labels", labels},
                      {"geometry", s.geometry},
                      {"source_frames", s.name == "multiframe"},
                      {"algorithm_name", provenance.algorithm_name}};
    // The sources too, so the checker can compare UIDs and positions.
    for (size_t i = 0; i < s.sources.size(); ++i) {
      std::ofstream(dir + "/" + s.name + "_source" + std::to_string(i) + ".dcm", std::ios::binary)
          << s.sources[i];
    }
    expect[s.name]["source_files"] = s.sources.size();
  }
  std::ofstream(dir + "/expect.json") << expect.dump(1);
  return 0;
}

}  // namespace
}  // namespace vlsm

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  return vlsm::Run(argv[1]);
}
