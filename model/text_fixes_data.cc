// The data behind FixText: ftfy 6.2.3's HTML entities, code pages and
// mojibake regexes (github.com/rspeer/python-ftfy, Apache-2.0, Copyright
// Robyn Speer; the character categories are ftfy/badness.py and
// ftfy/chardata.py before 6.3.0). Everything derived from code pages is
// computed from ICU's converters instead of typed in.
#include "model/text_fixes_data.h"

#include <unicode/ucnv.h>

#include <initializer_list>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace vlsm::text_fixes_internal {
namespace {

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

}  // namespace

const absl::flat_hash_map<std::string, UnicodeString>& HtmlEntities() {
  static const auto* table = [] {
    auto* t = new absl::flat_hash_map<std::string, UnicodeString>();
    for (const HtmlEntity& e : kHtmlEntities) (*t)[e.name] = UnicodeString::fromUTF8(e.value);
    return t;
  }();
  return *table;
}
namespace {

// ---------------------------------------------------------- code pages ----

constexpr struct {
  const char* icu_name;
  bool sloppy;
} kCodePageSpecs[kNumCodePages] = {
    {"ISO-8859-1", false},  {"windows-1252", true}, {"windows-1251", true},
    {"windows-1250", true}, {"windows-1253", true}, {"windows-1254", true},
    {"ISO-8859-2", false},  {"macintosh", false},   {"ibm-437", false}};

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

}  // namespace

const std::array<CodePage, kNumCodePages>& CodePages() {
  static const auto* pages = [] {
    auto* p = new std::array<CodePage, kNumCodePages>();
    for (int i = 0; i < kNumCodePages; ++i) (*p)[i] = BuildCodePage(static_cast<CodePageId>(i));
    return p;
  }();
  return *pages;
}
namespace {

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

std::unique_ptr<icu::RegexPattern> Compile(const std::string& pattern) {
  UErrorCode status = U_ZERO_ERROR;
  UParseError parse_error;
  std::unique_ptr<icu::RegexPattern> p(
      icu::RegexPattern::compile(UnicodeString::fromUTF8(pattern), 0, parse_error, status));
  return U_SUCCESS(status) ? std::move(p) : nullptr;
}

}  // namespace

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

}  // namespace vlsm::text_fixes_internal
