// Data behind FixText (text_fixes.h), internal to it: the HTML entity
// table, the single-byte code pages ftfy tries (built from ICU's converters)
// and ftfy's mojibake regexes. Split from text_fixes.cc so the fixes read on
// their own.
//
// Threading: every accessor builds its table once, on first use, and is
// thread-safe after that. Errors: none; a code page ICU lacks is marked
// unavailable, and a regex that does not compile is null (never matches).
#ifndef VLSM_MODEL_TEXT_FIXES_DATA_H_
#define VLSM_MODEL_TEXT_FIXES_DATA_H_

#include <unicode/regex.h>
#include <unicode/unistr.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"

namespace vlsm::text_fixes_internal {

using icu::UnicodeString;

// HTML5 entity names ("&amp;") to their text.
const absl::flat_hash_map<std::string, UnicodeString>& HtmlEntities();

// ftfy's CHARMAP_ENCODINGS (6.2.3), in the order they are tried.
enum CodePageId {
  kLatin1,
  kSloppy1252,
  kSloppy1251,
  kSloppy1250,
  kSloppy1253,
  kSloppy1254,
  kIso8859_2,
  kMacRoman,
  kCp437,
  kNumCodePages
};

// One code page as ftfy uses it: byte -> code point (the sloppy variants
// fill undefined bytes with Latin-1) and back.
struct CodePage {
  bool available = false;
  bool sloppy = false;
  std::array<UChar32, 256> to_unicode{};
  std::array<bool, 256> defined{};                     // by the real (strict) code page
  absl::flat_hash_map<UChar32, uint8_t> from_unicode;  // what possible_encoding accepts
};

const std::array<CodePage, kNumCodePages>& CodePages();

// ftfy's regexes, compiled once: BADNESS_RE, UTF8_DETECTOR_RE,
// ALTERED_UTF8_RE, LOSSY_UTF8_RE, A_GRAVE_WORD_RE and the ANSI escape.
struct Regexes {
  std::unique_ptr<icu::RegexPattern> badness, utf8_detector, altered_utf8, lossy_utf8, a_grave_word,
      ansi_escape;
};

const Regexes& GetRegexes();

}  // namespace vlsm::text_fixes_internal

#endif  // VLSM_MODEL_TEXT_FIXES_DATA_H_
