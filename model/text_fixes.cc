// Port of ftfy 6.2.3's fix_text (github.com/rspeer/python-ftfy, Apache-2.0,
// Copyright Robyn Speer). Function names follow ftfy's so each piece can be
// compared with the original. Its tables and regexes (ftfy's own heuristics,
// before 6.3.0 added Windows-1257 and changed some rules) are in
// text_fixes_data.cc.
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
#include "model/text_fixes_data.h"

namespace vlsm {
namespace {

using icu::UnicodeString;
using text_fixes_internal::CodePage;
using text_fixes_internal::CodePages;
using text_fixes_internal::GetRegexes;
using text_fixes_internal::Regexes;
using text_fixes_internal::HtmlEntities;
using text_fixes_internal::kLatin1;
using text_fixes_internal::kMacRoman;
using text_fixes_internal::kNumCodePages;
using text_fixes_internal::kSloppy1252;

// ftfy repeats its passes until the text stops changing; real text settles in
// two or three. The cap only guards against a pathological cycle.
constexpr int kMaxPasses = 16;
// ftfy.TextFixerConfig.max_decode_length: longer lines are cut.
constexpr int32_t kMaxDecodeLength = 1000000;

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
