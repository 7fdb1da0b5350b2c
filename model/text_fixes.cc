// Port of ftfy 6.2.3's fix_text (github.com/rspeer/python-ftfy, Apache-2.0,
// Copyright Robyn Speer). Function names follow ftfy's so each piece can be
// compared with the original. The mojibake character categories and regexes
// are ftfy's own heuristics (ftfy/badness.py and ftfy/chardata.py before
// 6.3.0, which added Windows-1257 and changed some rules); everything derived
// from code pages is computed from ICU's converters instead of typed in.
#include "model/text_fixes.h"

#include <unicode/normalizer2.h>
#include <unicode/regex.h>
#include <unicode/ucnv.h>
#include <unicode/unistr.h>
#include <unicode/utf16.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace vlsm {
namespace {

using icu::UnicodeString;

// ftfy repeats its passes until the text stops changing; real text settles in
// two or three. The cap only guards against a pathological cycle.
constexpr int kMaxPasses = 16;
// ftfy.TextFixerConfig.max_decode_length: longer lines are cut.
constexpr int32_t kMaxDecodeLength = 1000000;

// ---------------------------------------------------------------- HTML ----

struct HtmlEntity {
  const char* name;   // "&amp;"
  const char* value;  // UTF-8
};
constexpr HtmlEntity kHtmlEntities[] = {
#ifdef VLSM_HTML_ENTITIES_COMPACT
    // Fallback for builds without Python: the common entities only.
    {"&amp;", "&"},        {"&lt;", "<"},          {"&gt;", ">"},          {"&quot;", "\""},
    {"&apos;", "'"},       {"&nbsp;", "\xC2\xA0"}, {"&AMP;", "&"},         {"&LT;", "<"},
    {"&GT;", ">"},         {"&QUOT;", "\""},       {"&NBSP;", "\xC2\xA0"}, {"&hellip;", "\u2026"},
    {"&ndash;", "\u2013"}, {"&mdash;", "\u2014"},  {"&lsquo;", "\u2018"},  {"&rsquo;", "\u2019"},
    {"&ldquo;", "\u201C"}, {"&rdquo;", "\u201D"},  {"&laquo;", "\u00AB"},  {"&raquo;", "\u00BB"},
#else
#include "model/html5_entities.inc"
#endif
};

const absl::flat_hash_map<std::string, UnicodeString>& HtmlEntities() {
  static const auto* table = [] {
    auto* t = new absl::flat_hash_map<std::string, UnicodeString>();
    for (const HtmlEntity& e : kHtmlEntities) (*t)[e.name] = UnicodeString::fromUTF8(e.value);
    return t;
  }();
  return *table;
}

// ---------------------------------------------------------- code pages ----

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
constexpr struct {
  const char* icu_name;
  bool sloppy;
} kCodePageSpecs[kNumCodePages] = {
    {"ISO-8859-1", false},  {"windows-1252", true}, {"windows-1251", true},
    {"windows-1250", true}, {"windows-1253", true}, {"windows-1254", true},
    {"ISO-8859-2", false},  {"macintosh", false},   {"ibm-437", false}};

struct CodePage {
  bool available = false;
  bool sloppy = false;
  std::array<UChar32, 256> to_unicode{};
  std::array<bool, 256> defined{};                     // by the real (strict) code page
  absl::flat_hash_map<UChar32, uint8_t> from_unicode;  // what possible_encoding accepts
};

// ftfy's "sloppy" codecs decode the bytes a Windows code page leaves
// undefined as Latin-1, and use byte 0x1A to stand for U+FFFD.
CodePage BuildCodePage(CodePageId id) {
  CodePage cp;
  cp.sloppy = kCodePageSpecs[id].sloppy;
  UErrorCode status = U_ZERO_ERROR;
  UConverter* conv = ucnv_open(kCodePageSpecs[id].icu_name, &status);
  if (U_FAILURE(status)) return cp;  // never a candidate
  ucnv_setToUCallBack(conv, UCNV_TO_U_CALLBACK_STOP, nullptr, nullptr, nullptr, &status);
  for (int b = 0; b < 256; ++b) {
    cp.to_unicode[b] = b;  // ASCII is ASCII in every one of them
    cp.defined[b] = true;
    if (b < 0x80) continue;
    const char in = static_cast<char>(b);
    UChar out[2];
    status = U_ZERO_ERROR;
    ucnv_resetToUnicode(conv);
    const int32_t n = ucnv_toUChars(conv, out, 2, &in, 1, &status);
    // ICU gives the C1 control of the same value for some bytes that
    // Python's tables leave undefined; those are exactly the sloppy fill.
    const bool c1_fill = n == 1 && out[0] == b && b < 0xA0 && id != kLatin1 && id != kIso8859_2;
    if (U_SUCCESS(status) && n == 1 && !c1_fill) {
      cp.to_unicode[b] = out[0];
    } else {
      cp.defined[b] = false;
    }
  }
  ucnv_close(conv);
  // Python's cp437 follows Unicode's CP437.TXT (MICRO SIGN); ICU's ibm-437
  // has GREEK SMALL LETTER MU there.
  if (id == kCp437) cp.to_unicode[0xE6] = 0xB5;
  if (cp.sloppy) cp.to_unicode[0x1A] = 0xFFFD;
  for (int b = 0; b < 256; ++b) cp.from_unicode.emplace(cp.to_unicode[b], b);
  cp.available = true;
  return cp;
}

const std::array<CodePage, kNumCodePages>& CodePages() {
  static const auto* pages = [] {
    auto* p = new std::array<CodePage, kNumCodePages>();
    for (int i = 0; i < kNumCodePages; ++i) (*p)[i] = BuildCodePage(static_cast<CodePageId>(i));
    return p;
  }();
  return *pages;
}

template <typename F>
void ForEachCodePoint(const UnicodeString& s, F f) {
  for (int32_t i = 0; i < s.length();) {
    const UChar32 c = s.char32At(i);
    f(c);
    i += U16_LENGTH(c);
  }
}

bool IsAscii(const UnicodeString& s) {
  for (int32_t i = 0; i < s.length(); ++i) {
    if (s.charAt(i) >= 0x80) return false;
  }
  return true;
}

// chardata.possible_encoding + str.encode, in one step.
bool EncodeSingleByte(const UnicodeString& text, const CodePage& cp, std::string* bytes) {
  bytes->clear();
  for (int32_t i = 0; i < text.length();) {
    const UChar32 c = text.char32At(i);
    i += U16_LENGTH(c);
    auto it = cp.from_unicode.find(c);
    if (it == cp.from_unicode.end()) return false;
    bytes->push_back(static_cast<char>(it->second));
  }
  return true;
}

// The byte regexes run on "byte strings": one UChar per byte.
UnicodeString Widen(const std::string& bytes) {
  UnicodeString s;
  for (char b : bytes) s.append(static_cast<UChar>(static_cast<uint8_t>(b)));
  return s;
}
std::string Narrow(const UnicodeString& s) {
  std::string bytes(s.length(), '\0');
  for (int32_t i = 0; i < s.length(); ++i) bytes[i] = static_cast<char>(s.charAt(i));
  return bytes;
}

// bytes.decode("utf-8-variants") (ftfy/bad_codecs/utf8_variants.py): strict
// UTF-8 plus CESU-8 surrogate pairs and Java's C0 80 for U+0000.
bool DecodeUtf8Variants(const std::string& in, UnicodeString* out) {
  const auto* b = reinterpret_cast<const uint8_t*>(in.data());
  const size_t n = in.size();
  auto cont = [&](size_t i, uint8_t lo, uint8_t hi) { return i < n && b[i] >= lo && b[i] <= hi; };
  out->remove();
  for (size_t i = 0; i < n;) {
    const uint8_t c = b[i];
    if (c < 0x80) {
      out->append(static_cast<UChar32>(c));
      ++i;
    } else if (c == 0xC0 && cont(i + 1, 0x80, 0x80)) {
      out->append(static_cast<UChar32>(0));
      i += 2;
    } else if (c == 0xED && cont(i + 1, 0xA0, 0xAF) && cont(i + 2, 0x80, 0xBF) &&
               cont(i + 3, 0xED, 0xED) && cont(i + 4, 0xB0, 0xBF) && cont(i + 5, 0x80, 0xBF)) {
      out->append(static_cast<UChar32>(((b[i + 1] & 0x0F) << 16) + ((b[i + 2] & 0x3F) << 10) +
                                       ((b[i + 4] & 0x0F) << 6) + (b[i + 5] & 0x3F) + 0x10000));
      i += 6;
    } else {
      int len;
      UChar32 cp;
      if (c >= 0xC2 && c <= 0xDF) {
        len = 2, cp = c & 0x1F;
      } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, cp = c & 0x0F;
      } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, cp = c & 0x07;
      } else {
        return false;
      }
      for (int k = 1; k < len; ++k) {
        if (!cont(i + k, 0x80, 0xBF)) return false;
        cp = (cp << 6) | (b[i + k] & 0x3F);
      }
      if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
          (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
        return false;
      }
      out->append(cp);
      i += len;
    }
  }
  return true;
}

// ------------------------------------------------------------- regexes ----

// Regex class members from a list like U"\u00c0-\u00d1\u00d8": each code
// point escaped, '-' between two members kept as the range operator.
std::string Members(std::u32string_view m) {
  std::string out;
  for (size_t i = 0; i < m.size(); ++i) {
    if (m[i] == U'-' && i > 0 && i + 1 < m.size()) {
      out += '-';
    } else {
      absl::StrAppendFormat(&out, "\\x{%x}", static_cast<uint32_t>(m[i]));
    }
  }
  return out;
}
std::string Cls(std::initializer_list<std::u32string_view> parts) {
  std::string out = "[";
  for (std::u32string_view p : parts) out += Members(p);
  return out + "]";
}
std::string Lit(std::u32string_view seq) {
  std::string out;
  for (char32_t c : seq) absl::StrAppendFormat(&out, "\\x{%x}", static_cast<uint32_t>(c));
  return out;
}

// ftfy's MOJIBAKE_CATEGORIES (badness.py, ftfy 6.1-6.2).
constexpr std::u32string_view kCommon = U"\u00a0\u00ad\u00b7\u00b4\u2013\u2014\u2015\u2026\u2019";
constexpr std::u32string_view kC1 = U"\u0080-\u009f";
constexpr std::u32string_view kBad =
    U"\u00a6\u00a4\u00a8\u00ac\u00af\u00b6\u00a7\u00b8\u0192\u02c6\u02c7\u02d8\u02db\u02dc"
    U"\u2020\u2021\u2030\u2310\u25ca\ufffd\u00aa\u00ba";
constexpr std::u32string_view kCurrency = U"\u00a2\u00a3\u00a5\u20a7\u20ac";
constexpr std::u32string_view kStartPunct =
    U"\u00a1\u00ab\u00bf\u00a9\u0384\u0385\u2018\u201a\u201c\u201e\u2022\u2039\uf8ff";
constexpr std::u32string_view kEndPunct = U"\u00ae\u00bb\u02dd\u201d\u203a\u2122";
constexpr std::u32string_view kNumeric =
    U"\u00b2\u00b3\u00b9\u00b1\u00bc\u00bd\u00be\u00d7\u00b5\u00f7\u2044\u2202\u2206\u220f"
    U"\u2211\u221a\u221e\u2229\u222b\u2248\u2260\u2261\u2264\u2265\u2116";
constexpr std::u32string_view kKaomoji =
    U"\u00d2-\u00d6\u00d9-\u00dc\u00f2-\u00f6\u00f8-\u00fc\u0150\u00b0";
constexpr std::u32string_view kUpperAccented =
    U"\u00c0-\u00d1\u00d8\u00dc\u00dd\u0102\u0104\u0106\u010c\u010e\u0110\u0118\u011a\u011e"
    U"\u0130\u0139\u013d\u0141\u0143\u0147\u0152\u0158\u015a\u015e\u0160\u0162\u0164\u016e"
    U"\u0170\u0178\u0179\u017b\u017d\u0490";
constexpr std::u32string_view kLowerAccented =
    U"\u00df\u00e0-\u00f1\u0103\u0105\u0107\u010d\u010f\u0111\u0119\u011b\u011f\u013a\u013e"
    U"\u0142\u0153\u0155\u015b\u015f\u0161\u0165\u00fc\u017a\u017c\u017e\u0491\ufb01\ufb02";
constexpr std::u32string_view kUpperCommon =
    U"\u00de\u0391-\u03a9\u0386\u0388\u0389\u038a\u038c\u038e\u038f\u03aa\u03ab\u0401-\u042f";
constexpr std::u32string_view kLowerCommon =
    U"\u03b1-\u03c9\u03ac\u03ad\u03ae\u03af\u03b0\u0430-\u045f";
constexpr std::u32string_view kBox =
    U"\u2502\u250c\u2510\u2518\u251c\u2524\u252c\u253c\u2550-\u256c\u2580\u2584\u2588\u258c"
    U"\u2590\u2591\u2592\u2593";
// Python's \s (str.isspace) and \w.
constexpr std::u32string_view kPySpace =
    U"\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
const char kPyWord[] = "[\\p{L}\\p{N}_]";

// badness.BADNESS_RE: unlikely juxtapositions of the categories above.
std::string BadnessPattern() {
  const auto& lo = kLowerAccented;
  const auto& up = kUpperAccented;
  const std::string ws = Cls({kPySpace});
  const std::string arabic = Cls(
      {kCommon, kCurrency, kBad, kNumeric, kStartPunct, U"\u0178\u0160\u00ae\u00b0\u00b5\u00bb"});
  const std::vector<std::string> alternatives = {
      Cls({kC1}),
      Cls({kBad, lo, up, kBox, kStartPunct, kEndPunct, kCurrency, kNumeric}) + Cls({kBad}),
      Cls({U"a-zA-Z"}) + Cls({kLowerCommon, kUpperCommon}) + Cls({kBad}),
      Cls({kBad}) + Cls({lo, up, kBox, kStartPunct, kEndPunct, kCurrency, kNumeric}),
      Cls({lo, kLowerCommon, kBox, kEndPunct, kCurrency, kNumeric}) + Cls({up}),
      Cls({kBox, kEndPunct, kCurrency, kNumeric}) + Cls({lo}),
      Cls({lo, kBox, kEndPunct}) + Cls({kCurrency}),
      ws + Cls({up}) + Cls({kCurrency}),
      Cls({up, kBox}) + Cls({kNumeric}),
      Cls({lo, up, kBox, kCurrency, kEndPunct}) + Cls({kStartPunct}) + Cls({kNumeric}),
      Cls({lo, up, kCurrency, kNumeric, kBox}) + Cls({kEndPunct}) + Cls({kStartPunct}),
      Cls({kCurrency, kNumeric, kBox}) + Cls({kStartPunct}),
      Cls({U"a-z"}) + Cls({up}) + Cls({kStartPunct, kCurrency}),
      Cls({kBox}) + Cls({kKaomoji}),
      Cls({lo, up, kCurrency, kNumeric, kStartPunct, kEndPunct}) + Cls({kBox}),
      Cls({kBox}) + Cls({kEndPunct}),
      Cls({lo, up}) + Cls({kEndPunct}) + kPyWord,
      // The ligature œ when not followed by an unaccented Latin letter.
      Cls({U"\u0152\u0153"}) + "[^" + Members(U"A-Za-z") + "]",
      // Common Windows-1252 2-character mojibake.
      Cls({U"\u00c2\u00c3\u00ce\u00d0"}) +
          Cls({U"\u20ac\u0160\u0161\u00a2\u00a3\u0178\u017e\u00a0\u00ad\u00ae\u00a9\u00b0\u00b7"
               U"\u00bb",
               kStartPunct, kEndPunct, U"\u2013\u2014\u00b4"}),
      Lit(U"\u00d7") + Cls({U"\u00b2\u00b3"}),
      // Windows-1252 mojibake of Arabic words: four characters.
      Cls({U"\u00d8\u00d9"}) + arabic + Cls({U"\u00d8\u00d9"}) + arabic,
      // Windows-1252 mojibake starting 3-character South Asian sequences.
      Lit(U"\u00e0") + Cls({U"\u00b2\u00b5\u00b9\u00bc\u00bd\u00be"}),
      // MacRoman mojibake.
      Lit(U"\u221a") +
          Cls({U"\u00b1\u2202\u2020\u2260\u00ae\u2122\u00b4\u2264\u2265\u00a5\u00b5\u00f8"}),
      Lit(U"\u2248") + Cls({U"\u00b0\u00a2"}),
      Lit(U"\u201a\u00c4") +
          Cls({U"\u00ec\u00ee\u00ef\u00f2\u00f4\u00fa\u00f9\u00fb\u2020\u00b0\u00a2\u03c0"}),
      Lit(U"\u201a") + Cls({U"\u00e2\u00f3"}) + Cls({U"\u00e0\u00e4\u00b0\u00ea"}),
      // Windows-1251 mojibake.
      Lit(U"\u0432\u0402"),
      Cls({U"\u0412\u0413\u0420\u0421"}) +
          Cls({kC1, kBad, kStartPunct, kEndPunct, kCurrency, U"\u00b0\u00b5"}) +
          Cls({U"\u0412\u0413\u0420\u0421"}),
      Lit(U"\u0413\u045e\u0412\u0402\u0412") + "[^\\n]" + Cls({U"A-Za-z "}),
      // Windows-1252 encodings of 'à' and 'á', and of U+A0 itself.
      Lit(U"\u00c3") + Cls({U"\u00a0\u00a1"}),
      Cls({U"a-z"}) + ws + "?" + Cls({U"\u00c3\u00c2"}) + Cls({U" "}),
      "^" + Cls({U"\u00c3\u00c2"}) + Cls({U" "}),
      // Â standing for itself before a common character.
      Cls({U"a-z.,?!", kEndPunct}) + Lit(U"\u00c2") + Cls({U" ", kStartPunct, kEndPunct}),
      // Windows-1253 mojibake.
      Lit(U"\u03b2\u20ac") + Cls({U"\u2122\u00a0\u0386\u00ad\u00ae\u00b0"}),
      Cls({U"\u0392\u0393\u039e\u039f"}) +
          Cls({kC1, kBad, kStartPunct, kEndPunct, kCurrency, U"\u00b0"}) +
          Cls({U"\u0392\u0393\u039e\u039f"}),
  };
  std::string out;
  for (const std::string& alt : alternatives) absl::StrAppend(&out, out.empty() ? "" : "|", alt);
  return out;
}

// chardata.UTF8_DETECTOR_RE: runs of characters that a Latin-1-like code
// page makes of UTF-8 sequences. ftfy's UTF8_CLUES are exactly what
// Latin-1 and Windows-1250..1254 decode the lead and continuation bytes to.
std::string Utf8DetectorPattern() {
  const auto& pages = CodePages();
  auto clue = [&](int lo, int hi, bool only_above_bf) {
    std::u32string out;
    for (CodePageId id :
         {kLatin1, kSloppy1252, kSloppy1251, kSloppy1250, kSloppy1253, kSloppy1254}) {
      for (int b = lo; b <= hi; ++b) {
        const UChar32 c = pages[id].to_unicode[b];
        if (pages[id].defined[b] && (!only_above_bf || c > 0xBF) && c != U'-') out += c;
      }
    }
    return out;
  };
  const std::u32string first2 = clue(0xC2, 0xDF, false), first3 = clue(0xE0, 0xEF, false);
  const std::u32string first4 = clue(0xF0, 0xF0, false) + clue(0xF3, 0xF3, false);
  const std::u32string cont_letters = clue(0x80, 0xBF, true);
  // "Strict" continuations exclude what often stands for itself next to
  // mojibake: spaces, dashes, bullets, quotation marks, ellipses.
  std::u32string strict;
  for (char32_t c : cont_letters) {
    if (std::u32string_view(U"\u2013\u2014\u2015\u2018\u2019\u201a\u201c\u201d\u201e\u2022\u2026")
            .find(c) == std::u32string_view::npos) {
      strict += c;
    }
  }
  const std::string cont = Cls({U"\u0080-\u00bf ", cont_letters});
  return absl::StrCat("(?<!", Cls({U"\u0080-\u00bf", strict}), ")(?:", Cls({first2}), cont, "|",
                      Cls({first3}), cont, "{2}|", Cls({first4}), cont, "{3})+");
}

struct Regexes {
  std::unique_ptr<icu::RegexPattern> badness, utf8_detector, altered_utf8, lossy_utf8, a_grave_word,
      ansi_escape;
};

std::unique_ptr<icu::RegexPattern> Compile(const std::string& pattern) {
  UErrorCode status = U_ZERO_ERROR;
  UParseError parse_error;
  std::unique_ptr<icu::RegexPattern> p(
      icu::RegexPattern::compile(UnicodeString::fromUTF8(pattern), 0, parse_error, status));
  return U_SUCCESS(status) ? std::move(p) : nullptr;
}

const Regexes& GetRegexes() {
  static const Regexes* regexes = [] {
    auto* r = new Regexes();
    r->badness = Compile(BadnessPattern());
    r->utf8_detector = Compile(Utf8DetectorPattern());
    // chardata.ALTERED_UTF8_RE: UTF-8 that would be valid if a space were
    // the byte A0 it replaced.
    const std::string c3 = "[\\x{80}-\\x{84}\\x{86}-\\x{9f}\\x{a1}-\\x{bf}]",
                      cx = "[\\x{80}-\\x{bf}]";
    r->altered_utf8 = Compile(absl::StrCat(
        "[\\x{c2}\\x{c3}\\x{c5}\\x{ce}\\x{d0}\\x{d9}] |[\\x{e2}\\x{e3}] ", c3, "|[\\x{e0}-\\x{e3}]",
        c3, " |\\x{f0} ", cx, cx, "|\\x{f0}", cx, " ", cx, "|\\x{f0}", cx, cx, " "));
    // chardata.LOSSY_UTF8_RE: UTF-8 with bytes lost to '?' or U+FFFD (0x1A).
    const std::string q = "[\\x{1a}\\x{3f}]", qc = "[\\x{1a}\\x{80}-\\x{bf}]",
                      qqc = "[\\x{1a}\\x{3f}\\x{80}-\\x{bf}]";
    r->lossy_utf8 =
        Compile(absl::StrCat("[\\x{c2}-\\x{df}]\\x{1a}|[\\x{c2}\\x{c3}]\\?",
                             "|\\x{ed}[\\x{a0}-\\x{af}]", q, "\\x{ed}[\\x{b0}-\\x{bf}]", qqc,
                             "|\\x{ed}[\\x{a0}-\\x{af}]", qqc, "\\x{ed}[\\x{b0}-\\x{bf}]", q,   //
                             "|[\\x{e0}-\\x{ef}]", q, qc, "|[\\x{e0}-\\x{ef}]", qc, q,          //
                             "|[\\x{f0}-\\x{f4}]", q, qc, qc, "|[\\x{f0}-\\x{f4}]", qc, q, qc,  //
                             "|[\\x{f0}-\\x{f4}]", qc, qc, q, "|\\x{1a}"));
    // fixes.A_GRAVE_WORD_RE: "Ã " as the word "à", but not before Portuguese
    // contractions or a second space.
    r->a_grave_word = Compile("\\x{c3} (?! |quele|quela|quilo|s )");
    r->ansi_escape = Compile("\\x{1b}\\[(?:\\p{Nd}|;)*[a-zA-Z]");
    return r;
  }();
  return *regexes;
}

bool Search(const icu::RegexPattern* pattern, const UnicodeString& text) {
  if (pattern == nullptr) return false;
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::RegexMatcher> m(pattern->matcher(text, status));
  return U_SUCCESS(status) && m->find(status) && U_SUCCESS(status);
}

// re.sub with a function: replace(match) for every non-overlapping match.
template <typename F>
UnicodeString Sub(const icu::RegexPattern* pattern, const UnicodeString& text, F replace) {
  if (pattern == nullptr) return text;
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::RegexMatcher> m(pattern->matcher(text, status));
  if (U_FAILURE(status)) return text;
  UnicodeString out;
  int32_t last = 0;
  while (m->find(status) && U_SUCCESS(status)) {
    const int32_t start = m->start(status), end = m->end(status);
    out.append(text, last, start - last);
    out.append(replace(UnicodeString(text, start, end - start)));
    last = end;
  }
  out.append(text, last, text.length() - last);
  return out;
}

bool IsBad(const UnicodeString& text) { return Search(GetRegexes().badness.get(), text); }

// -------------------------------------------------------- fix_encoding ----

UnicodeString FixEncodingU(UnicodeString text);

std::string RestoreByteA0(const std::string& bytes) {
  const Regexes& r = GetRegexes();
  UnicodeString s = Sub(r.a_grave_word.get(), Widen(bytes),
                        [](const UnicodeString&) { return UnicodeString(u"\u00c3\u00a0 "); });
  s = Sub(r.altered_utf8.get(), s, [](UnicodeString m) {
    return m.findAndReplace(UnicodeString(u" "), UnicodeString(u"\u00a0"));
  });
  return Narrow(s);
}

std::string ReplaceLossySequences(const std::string& bytes) {
  return Narrow(Sub(GetRegexes().lossy_utf8.get(), Widen(bytes), [](const UnicodeString&) {
    return UnicodeString(u"\u00ef\u00bf\u00bd");  // U+FFFD in UTF-8
  }));
}

UnicodeString DecodeInconsistentUtf8(const UnicodeString& text) {
  const int32_t length = text.countChar32();
  return Sub(GetRegexes().utf8_detector.get(), text, [&](const UnicodeString& m) {
    // Only shorter pieces, so this cannot recurse forever.
    return m.countChar32() < length && IsBad(m) ? FixEncodingU(m) : m;
  });
}

UnicodeString FixC1Controls(const UnicodeString& text) {
  const CodePage& cp1252 = CodePages()[kSloppy1252];
  UnicodeString out;
  ForEachCodePoint(
      text, [&](UChar32 c) { out.append(c >= 0x80 && c <= 0x9F ? cp1252.to_unicode[c] : c); });
  return out;
}

// ftfy._fix_encoding_one_step_and_explain.
UnicodeString FixEncodingOneStep(const UnicodeString& text) {
  if (text.isEmpty() || IsAscii(text) || !IsBad(text)) return text;
  const auto& pages = CodePages();
  bool latin1_possible = false;
  std::string bytes;
  for (int id = 0; id < kNumCodePages; ++id) {
    const CodePage& cp = pages[id];
    if (!cp.available || !EncodeSingleByte(text, cp, &bytes)) continue;
    if (id == kLatin1) latin1_possible = true;
    // An en dash and a space would match in MacRoman: not there.
    if (id != kMacRoman && Search(GetRegexes().altered_utf8.get(), Widen(bytes))) {
      bytes = RestoreByteA0(bytes);
    }
    if (cp.sloppy) bytes = ReplaceLossySequences(bytes);
    UnicodeString fixed;
    if (DecodeUtf8Variants(bytes, &fixed)) return fixed;
  }
  if (Search(GetRegexes().utf8_detector.get(), text)) {
    UnicodeString fixed = DecodeInconsistentUtf8(text);
    if (fixed != text) return fixed;
  }
  // Latin-1 meant as Windows-1252 (strictly: undefined bytes fail).
  if (latin1_possible) {
    const CodePage& cp1252 = pages[kSloppy1252];
    UnicodeString fixed;
    bool ok = true;
    ForEachCodePoint(text, [&](UChar32 c) {  // c <= 0xFF here
      ok = ok && cp1252.defined[c];
      fixed.append(c < 0x80 ? c : cp1252.to_unicode[c]);
    });
    if (ok && fixed != text) return fixed;
  }
  bool has_c1 = false;
  ForEachCodePoint(text, [&](UChar32 c) { has_c1 |= c >= 0x80 && c <= 0x9F; });
  return has_c1 ? FixC1Controls(text) : text;
}

UnicodeString FixEncodingU(UnicodeString text) {
  for (int pass = 0; pass < kMaxPasses; ++pass) {
    UnicodeString next = FixEncodingOneStep(text);
    if (next == text) break;
    text = std::move(next);
  }
  return text;
}

// ----------------------------------------------------- the other fixes ----

// html.unescape of "&#<body>;" where body is [0-9A-Za-z]{1,24}; false when
// Python would decode only a prefix (ftfy then keeps the entity).
bool DecodeNumericEntity(const std::string& body, UnicodeString* out) {
  const bool hex = body[0] == 'x' || body[0] == 'X';
  const size_t start = hex ? 1 : 0;
  if (start == body.size()) return false;
  uint32_t num = 0;
  for (size_t i = start; i < body.size(); ++i) {
    const char c = body[i];
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (hex && ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')) {
      digit = (c | 0x20) - 'a' + 10;
    } else {
      return false;
    }
    num = std::min<uint32_t>(num * (hex ? 16 : 10) + digit, 0x110000);  // saturate
  }
  out->remove();
  if (num == 0 || (num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF) {
    out->append(static_cast<UChar32>(0xFFFD));
  } else if (num == 0x0D) {
    out->append(static_cast<UChar32>(0x0D));
  } else if (num >= 0x80 && num <= 0x9F) {  // as browsers do: Windows-1252
    out->append(CodePages()[kSloppy1252].to_unicode[num]);
  } else if ((num >= 0x01 && num <= 0x08) || num == 0x0B || (num >= 0x0E && num <= 0x1F) ||
             num == 0x7F || (num >= 0xFDD0 && num <= 0xFDEF) || (num & 0xFFFE) == 0xFFFE) {
    // html.unescape drops these.
  } else {
    out->append(static_cast<UChar32>(num));
  }
  return num != ';';  // a decoded ';' looks like a partial decode to ftfy
}

// fixes.unescape_html: HTML_ENTITY_RE = &#?[0-9A-Za-z]{1,24};
UnicodeString UnescapeHtmlU(const UnicodeString& text) {
  if (text.indexOf(u'&') < 0) return text;
  auto alnum = [](UChar c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  };
  UnicodeString out;
  int32_t i = 0;
  while (i < text.length()) {
    const UChar c = text.charAt(i);
    if (c != u'&') {
      out.append(c);
      ++i;
      continue;
    }
    int32_t j = i + 1;
    if (j < text.length() && text.charAt(j) == u'#') ++j;
    int32_t k = j;
    while (k < text.length() && k - j <= 24 && alnum(text.charAt(k))) ++k;
    if (k == j || k - j > 24 || k >= text.length() || text.charAt(k) != u';') {
      out.append(c);
      ++i;
      continue;
    }
    std::string entity;
    UnicodeString(text, i, k + 1 - i).toUTF8String(entity);
    UnicodeString decoded;
    const auto& table = HtmlEntities();
    if (auto it = table.find(entity); it != table.end()) {
      out.append(it->second);
    } else if (j > i + 1 && DecodeNumericEntity(entity.substr(2, entity.size() - 3), &decoded)) {
      out.append(decoded);
    } else {
      out.append(text, i, k + 1 - i);
    }
    i = k + 1;
  }
  return out;
}

// chardata.LIGATURES: Latin ligatures and legacy digraphs.
const absl::flat_hash_map<UChar32, std::u16string_view>& Ligatures() {
  static const auto* table = new absl::flat_hash_map<UChar32, std::u16string_view>{
      {0x0132, u"IJ"},      {0x0133, u"ij"}, {0x0149, u"\u02bcn"}, {0x01F1, u"DZ"},
      {0x01F2, u"Dz"},      {0x01F3, u"dz"}, {0x01C4, u"D\u017d"}, {0x01C5, u"D\u017e"},
      {0x01C6, u"d\u017e"}, {0x01C7, u"LJ"}, {0x01C8, u"Lj"},      {0x01C9, u"lj"},
      {0x01CA, u"NJ"},      {0x01CB, u"Nj"}, {0x01CC, u"nj"},      {0xFB00, u"ff"},
      {0xFB01, u"fi"},      {0xFB02, u"fl"}, {0xFB03, u"ffi"},     {0xFB04, u"ffl"},
      {0xFB05, u"\u017ft"}, {0xFB06, u"st"}};
  return *table;
}

// chardata.WIDTH_MAP: U+3000 and U+FF01..U+FFEF to their NFKC forms.
const UnicodeString& WidthReplacement(UChar32 c) {
  static const auto* table = [] {
    auto* t = new std::vector<UnicodeString>();
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* nfkc = icu::Normalizer2::getNFKCInstance(status);
    for (UChar32 x = 0xFF01; x <= 0xFFEF; ++x) {
      UnicodeString s(x);
      t->push_back(U_SUCCESS(status) ? nfkc->normalize(s, status) : s);
    }
    return t;
  }();
  static const UnicodeString kSpace(u" ");
  return c == 0x3000 ? kSpace : (*table)[c - 0xFF01];
}

bool IsRemovedControl(UChar32 c) {
  return c <= 0x08 || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F ||
         (c >= 0x206A && c <= 0x206F) || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFC);
}

// fix_character_width, uncurl_quotes and fix_line_breaks for one character
// (CR, which may pair with a following LF, is handled by the caller).
void AppendTranslated(UChar32 c, UnicodeString* out) {
  if (c == 0x3000 || (c >= 0xFF01 && c <= 0xFFEF)) {
    out->append(WidthReplacement(c));
  } else if (c == 0x02BC || (c >= 0x2018 && c <= 0x201B)) {
    out->append(u'\'');
  } else if (c >= 0x201C && c <= 0x201F) {
    out->append(u'"');
  } else if (c == 0x2028 || c == 0x2029 || c == 0x85) {
    out->append(u'\n');
  } else {
    out->append(c);
  }
}

// fix_latin_ligatures, fix_character_width, uncurl_quotes, fix_line_breaks,
// in that order; each is a per-character translation, so one scan does all
// (a ligature's letters go through the later ones: "ŉ" becomes "'n").
UnicodeString TranslateChars(const UnicodeString& text) {
  UnicodeString out;
  const auto& ligatures = Ligatures();
  for (int32_t i = 0; i < text.length();) {
    const UChar32 c = text.char32At(i);
    i += U16_LENGTH(c);
    if (auto it = ligatures.find(c); it != ligatures.end()) {
      for (char16_t part : it->second) AppendTranslated(part, &out);
    } else if (c == u'\r') {
      out.append(u'\n');
      if (i < text.length() && text.charAt(i) == u'\n') ++i;
    } else {
      AppendTranslated(c, &out);
    }
  }
  return out;
}

// One segment: ftfy.fix_and_explain's loop.
UnicodeString FixSegment(UnicodeString text, bool unescape_html) {
  const Regexes& regexes = GetRegexes();
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  for (int pass = 0; pass < kMaxPasses; ++pass) {
    const UnicodeString orig = text;
    if (unescape_html) text = UnescapeHtmlU(text);
    text = FixC1Controls(FixEncodingU(std::move(text)));
    text = TranslateChars(text);
    if (text.indexOf(static_cast<UChar>(0x1B)) >= 0) {
      text = Sub(regexes.ansi_escape.get(), text,
                 [](const UnicodeString&) { return UnicodeString(); });
    }
    UnicodeString kept;
    ForEachCodePoint(text, [&](UChar32 c) {
      if (!IsRemovedControl(c)) kept.append(c);
    });
    text = std::move(kept);
    if (U_SUCCESS(status) && !nfc->isNormalized(text, status)) text = nfc->normalize(text, status);
    if (text == orig) break;
  }
  return text;
}

// Text that no fixer touches: ASCII without entities, CR or control chars.
bool NothingToFix(absl::string_view s) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80 || c == '&' || c == '\r' || IsRemovedControl(c)) return false;
  }
  return true;
}

std::string ToUtf8(const UnicodeString& s) {
  std::string out;
  s.toUTF8String(out);
  return out;
}

}  // namespace

std::string FixText(absl::string_view utf8) {
  if (NothingToFix(utf8)) return std::string(utf8);
  const UnicodeString text = UnicodeString::fromUTF8(icu::StringPiece(utf8.data(), utf8.size()));
  UnicodeString out;
  bool unescape_html = true;  // "auto": off from the first line with a '<'
  for (int32_t pos = 0; pos < text.length();) {
    const int32_t newline = text.indexOf(u'\n', pos);
    int32_t end = newline < 0 ? text.length() : newline + 1;
    if (end - pos > kMaxDecodeLength) end = std::min(end, text.moveIndex32(pos, kMaxDecodeLength));
    const UnicodeString segment(text, pos, end - pos);
    if (segment.indexOf(u'<') >= 0) unescape_html = false;
    out.append(FixSegment(segment, unescape_html));
    pos = end;
  }
  return ToUtf8(out);
}

std::string FixEncoding(absl::string_view utf8) {
  return ToUtf8(FixEncodingU(UnicodeString::fromUTF8(icu::StringPiece(utf8.data(), utf8.size()))));
}

std::string UnescapeHtml(absl::string_view utf8) {
  return ToUtf8(UnescapeHtmlU(UnicodeString::fromUTF8(icu::StringPiece(utf8.data(), utf8.size()))));
}

bool LooksLikeMojibake(absl::string_view utf8) {
  return IsBad(UnicodeString::fromUTF8(icu::StringPiece(utf8.data(), utf8.size())));
}

}  // namespace vlsm
