// ftfy.fix_text emulation, one rule at a time. Expected values are ftfy's
// own documented results (its doctests) or follow directly from its rules.
#include "model/text_fixes.h"

#include <string>

#include "gtest/gtest.h"

namespace vlsm {
namespace {

TEST(TextFixesTest, PlainTextIsUnchanged) {
  for (const char* text : {
           "",
           "a small round pink polyp at the bottom left",
           "T2-weighted MRI, 3.5 cm",
           "caf\u00e9",
           "M\u00fcller",
           "na\u00efve r\u00e9sum\u00e9 S\u00e3o Paulo",
           "\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac",
           "\u0395\u039b\u039b\u0397 \u039f\u0394\u039f\u03a3",
           "\u0420\u0443\u0441\u0441\u043a\u0438\u0439",
           "\u65e5\u672c\u8a9e",
           "\u0939\u093f\u0928\u094d\u0926\u0940",
           "size: 4.2 \u00d7 3.1 cm\u00b2",
           "\u00bd \u00be \u2163 \u0663",
           "\U0001f469\u200d\u2695\ufe0f",
           "zero\u200bwidth",
           "soft\u00adhyphen",
           "non\u00a0breaking",
           "\u00abguillemets\u00bb \u2014 dash",
           "a\tb\nc\fd",
           "<b>bold</b>",
       }) {
    EXPECT_EQ(FixText(text), text);
  }
}

TEST(TextFixesTest, UnescapesHtmlEntities) {
  EXPECT_EQ(UnescapeHtml("&lt;tag&gt;"), "<tag>");
  EXPECT_EQ(UnescapeHtml("&amp; &quot;q&quot; &apos; &nbsp;"), "& \"q\" ' \u00a0");
  EXPECT_EQ(UnescapeHtml("&#39; &#x27; &#X27; &#039;"), "' ' ' '");
  // Numeric references follow html.unescape: 0x80-0x9F as Windows-1252,
  // NUL, surrogates and too-large numbers as U+FFFD, other controls dropped.
  EXPECT_EQ(UnescapeHtml("&#128;&#x9c;"), "\u20ac\u0153");
  EXPECT_EQ(UnescapeHtml("[&#0;][&#xD800;][&#1114112;][&#99999999999999999999;]"),
            "[\ufffd][\ufffd][\ufffd][\ufffd]");
  EXPECT_EQ(UnescapeHtml("[&#1;][&#x7f;][&#xFFFE;]"), "[][][]");
  EXPECT_EQ(UnescapeHtml("&#x1F642;"), "\U0001f642");
  // Only complete, known entities.
  for (const char* kept : {"&amp", "&ampx;", "&notanentity;", "&#39abc;", "&#x;", "&#xZZ;", "&#59;",
                           "&abcdefghijklmnopqrstuvwxy;", "AT&T", "& amp;"}) {
    EXPECT_EQ(UnescapeHtml(kept), kept);
  }
}

#ifndef VLSM_HTML_ENTITIES_COMPACT
TEST(TextFixesTest, UnescapesEveryHtml5NameAndAllCapsLatin) {
  EXPECT_EQ(UnescapeHtml("&Jscr;ohn &HilbertSpace;ancock"), "\U0001d4a5ohn \u210bancock");
  EXPECT_EQ(UnescapeHtml("&checkmark;"), "\u2713");
  EXPECT_EQ(UnescapeHtml("P&eacute;rez"), "P\u00e9rez");
  EXPECT_EQ(UnescapeHtml("P&EACUTE;REZ"), "P\u00c9REZ");
  EXPECT_EQ(UnescapeHtml("BUNDESSTRA&SZLIG;E"), "BUNDESSTRASSE");
  EXPECT_EQ(UnescapeHtml("&ntilde; &Ntilde; &NTILDE; &nTILDE;"), "\u00f1 \u00d1 \u00d1 &nTILDE;");
  EXPECT_EQ(FixText("&macr;\\_(\u00e3\u0083\u0084)_/&macr;"), "\u00af\\_(\u30c4)_/\u00af");
}
#endif

TEST(TextFixesTest, HtmlIsUnescapedUntilALineHasAnAngleBracket) {
  EXPECT_EQ(FixText("polyp &amp; mass"), "polyp & mass");
  EXPECT_EQ(FixText("&lt;polyp&gt;"), "<polyp>");
  EXPECT_EQ(FixText("&amp;amp;lt;"), "<");  // repeated until nothing changes
  EXPECT_EQ(FixText("a <b>bold</b> &amp; tag"), "a <b>bold</b> &amp; tag");
  EXPECT_EQ(FixText("&amp;\n<b>&amp;\n&amp;"), "&\n<b>&amp;\n&amp;");
  EXPECT_EQ(FixText("\ufeffParty like\nit&rsquo;s 1999!"), "Party like\nit's 1999!");
}

TEST(TextFixesTest, UncurlsQuotes) {
  EXPECT_EQ(FixText("\u2018a\u2019 \u201cb\u201d \u201ac\u201b \u201ed\u201f \u02bce"),
            "'a' \"b\" 'c' \"d\" 'e");
  EXPECT_EQ(FixText("patient\u2019s left lung"), "patient's left lung");
}

TEST(TextFixesTest, FixesCharacterWidth) {
  EXPECT_EQ(FixText("\uff23\uff34\u3000\uff53\uff43\uff41\uff4e"), "CT scan");
  EXPECT_EQ(FixText("\uff35\uff80\uff70\uff9d"), "U\u30bf\u30fc\u30f3");  // "U-turn"
}

TEST(TextFixesTest, SplitsLatinLigatures) {
  EXPECT_EQ(FixText("\ufb02u\ufb03e\ufb06"), "fluffiest");
  EXPECT_EQ(FixText("\ufb01brosis \u0132 \u01c6 \ufb05"), "fibrosis IJ d\u017e \u017ft");
  EXPECT_EQ(FixText("\u0149"), "'n");  // its U+02BC then uncurls
}

TEST(TextFixesTest, RemovesControlCharacters) {
  EXPECT_EQ(FixText("x\vy"), "xy");
  EXPECT_EQ(FixText("a\x01"
                    "b\x1f"
                    "c\x7f"
                    "d\ufeffe\u206af\ufffcg"),
            "abcdefg");
  EXPECT_EQ(FixText("\x1b[36;44mI'm blue\x1b[0m"), "I'm blue");  // terminal escapes
}

TEST(TextFixesTest, NormalizesLineBreaks) {
  EXPECT_EQ(FixText("a\r\nb\rc\u2028d\u2029e"), "a\nb\nc\nd\ne");
  // A lone NEXT LINE is C1 mojibake to fix_encoding first: an ellipsis.
  EXPECT_EQ(FixText("e\u0085f"), "e\u2026f");
}

TEST(TextFixesTest, NormalizesToNfc) {
  EXPECT_EQ(FixText("cafe\u0301"), "caf\u00e9");
  EXPECT_EQ(FixText("\u1100\u1161"), "\uac00");
}

TEST(TextFixesTest, DetectsMojibake) {
  EXPECT_TRUE(LooksLikeMojibake("caf\u00c3\u00a9"));
  EXPECT_TRUE(LooksLikeMojibake("\u00e2\u0080\u0094"));
  for (const char* fine : {"caf\u00e9", "M\u00fcller", "size: 4.2 \u00d7 3.1 cm\u00b2",
                           "\u0395\u039b\u039b\u0397\u039d\u0399\u039a\u039f\u03a3",
                           "AH\u00c5\u2122, the new sofa from IKEA\u00ae"}) {
    EXPECT_FALSE(LooksLikeMojibake(fine)) << fine;
  }
}

TEST(TextFixesTest, FixesUtf8DecodedAsASingleByteCodePage) {
  EXPECT_EQ(FixEncoding("caf\u00c3\u00a9"), "caf\u00e9");  // Latin-1
  EXPECT_EQ(FixEncoding("\u00c3\u00b3"), "\u00f3");
  EXPECT_EQ(FixEncoding("s\u00c3\u00b3"), "s\u00f3");
  EXPECT_EQ(FixEncoding("sch\u00c3\u00b6n"), "sch\u00f6n");
  EXPECT_EQ(FixEncoding("\u00c3\u00banico"), "\u00fanico");
  EXPECT_EQ(FixEncoding("This \u00e2\u20ac\u201d should be an em dash"),  // Windows-1252
            "This \u2014 should be an em dash");
  EXPECT_EQ(FixEncoding("\u00e2\u0153\u201d No problems"), "\u2714 No problems");
  EXPECT_EQ(FixEncoding("\u00d0\u00bf\u00d1\u20ac\u00d0\u00b8\u00d0\u00b2\u00d0\u00b5\u00d1\u201a"),
            "\u043f\u0440\u0438\u0432\u0435\u0442");
  EXPECT_EQ(FixEncoding("caf\u221a\u00a9"), "caf\u00e9");  // MacRoman
  EXPECT_EQ(FixEncoding("This text is sad .\u00e2\u0081\u201d."), "This text is sad .\u2054.");
  EXPECT_EQ(FixText("caf\u00c3\u00a9"), "caf\u00e9");
}

TEST(TextFixesTest, RestoresSpacesThatWereNoBreakSpaces) {
  EXPECT_EQ(FixEncoding("voil\u00c3 le travail"), "voil\u00e0 le travail");
  EXPECT_EQ(FixEncoding("The more you know \u00f0\u0178\u0152 "), "The more you know \U0001f320");
}

TEST(TextFixesTest, ReplacesLossySequencesAndInconsistentParts) {
  EXPECT_EQ(FixEncoding("\u00e2\u20ac\u0153 like this \u00e2\u20ac\ufffd"),
            "\u201c like this \ufffd");
  // Mojibake next to a character no code page has: fixed in place.
  EXPECT_EQ(FixEncoding("caf\u00c3\u00a9 \u2714"), "caf\u00e9 \u2714");
}

TEST(TextFixesTest, TreatsC1ControlsAsWindows1252) {
  EXPECT_EQ(FixEncoding("This text was never UTF-8 at all\u0085"),
            "This text was never UTF-8 at all\u2026");
  EXPECT_EQ(FixEncoding("\u0080 and \u2714"), "\u20ac and \u2714");
}

// Cases from ftfy's own test files (tests/test-cases/*.json).
TEST(TextFixesTest, FixesOtherCodePagesAndRepeatedMojibake) {
  EXPECT_EQ(
      FixText("M\u0102\u0104m dost t\u0139\u0099et\u0102\u00adho tis\u0102\u00adcilet\u0102\u00ad"),
      "M\u00e1m dost t\u0159et\u00edho tis\u00edcilet\u00ed");  // ISO-8859-2
  EXPECT_EQ(FixText("Li\u0102\u00a8ge Avenue de l'H\u0102\u00b4pital"),
            "Li\u00e8ge Avenue de l'H\u00f4pital");  // Windows-1250
  EXPECT_EQ(FixText("\u00d8\u00b1\u00d8\u00b3\u00d8\u00a7\u00d9\u201e\u00d8\u00a9"),
            "\u0631\u0633\u0627\u0644\u0629");  // Windows-1252, Arabic
  EXPECT_EQ(FixText("\u25ca\u00eb\u25ca\u00ee\u25ca\u00ef\u25ca\u00ec\u25ca\u00a2\u25ca\u00ee"),
            "\u05d1\u05d4\u05d5\u05d3\u05e2\u05d4");  // MacRoman, Hebrew
  EXPECT_EQ(
      FixText("#\u2568\u2510\u2564\u00c7\u2568\u2591\u2568\u2593\u2568\u2555\u2568\u2557\u2564"
              "\u00ee\u2568\u255c\u2568\u255b\u2568\u2561"),
      "#\u043f\u0440\u0430\u0432\u0438\u043b\u044c\u043d\u043e\u0435");  // cp437
  EXPECT_EQ(
      FixText("\u0420 \u0421\u2014\u0420\u040e\u0420\u201a\u0420 \u0421\u2018\u0420\u040e\u0420"
              "\u040f\u0420\u040e\u0432\u0402\u0459\u0420 \u0420\u2026\u0420 \u0421\u2022\u0420"
              "\u040e\u0420\u0453\u0420\u040e\u0432\u0402\u0459\u0420 \u0421\u2018. \u0420\u0406"
              "\u0421\u045a\u0412\u00a4"),
      "\u043f\u0440\u0438\u044f\u0442\u043d\u043e\u0441\u0442\u0438. \u2764");  // 1251 twice
  const char* mona_lisa =
      "The Mona Lisa doesn\u00c3\u0192\u00c2\u00a2\u00c3\u00a2\u00e2\u20ac\u0161\u00c2\u00ac\u00c3"
      "\u00a2\u00e2\u20ac\u017e\u00c2\u00a2t have eyebrows.";  // Windows-1252, three times
  EXPECT_EQ(FixEncoding(mona_lisa), "The Mona Lisa doesn\u2019t have eyebrows.");
  EXPECT_EQ(FixText(mona_lisa), "The Mona Lisa doesn't have eyebrows.");
  // CESU-8 (UTF-16 surrogates each encoded as UTF-8), read as Latin-1.
  EXPECT_EQ(FixText("Hi guys \u00ed\u00a0\u00bd\u00ed\u00b8\u008d"), "Hi guys \U0001f60d");
  // Latin-1 C1 controls meant as Windows-1252 quotes.
  EXPECT_EQ(FixEncoding("\u0084Handwerk bringt dich \u00fcberall hin\u0093: Von der YOU"),
            "\u201eHandwerk bringt dich \u00fcberall hin\u201c: Von der YOU");
  // Inconsistent UTF-8 / Latin-1 with a stray C1 ellipsis.
  EXPECT_EQ(
      FixText("Ecuador\u00e2\u0080\u0099s \u00e2\u0080\u0098purely political\u00e2\u0080\u0099"
              "\u0085"),
      "Ecuador's 'purely political'\u2026");
  // Lossy: '?' where bytes were lost; what cannot be recovered becomes U+FFFD.
  EXPECT_EQ(FixText("It\u00c3?\u00c2\u00a2\u00e2?\u00ac\u00e2?\u00a2s classic."),
            "It\ufffd\u00a2\ufffd\ufffds classic.");
}

TEST(TextFixesTest, LeavesLegitimateTextAlone) {
  for (const char* text :
       {"This text is fine already :\u00fe", "not such a fan of Charlotte Bront\u00eb\u2026\u201d",
        "AH\u00c5\u2122, the new sofa from IKEA\u00ae", "&ATILDE;&SUP3;",
        "Bremer/Mccoy \u2013 Dr\u00c3\u00a5ber", "\u0412\u0406\u041a\u0406 is Ukrainian for WIKI",
        "\u00d4\u00f4\u00f4 VIDA MINHA", "Offering 5\u00d7\u00a335 pin ups",
        "NESTL\u00c9\u00ae requiere contratar", "\u251c\u2524a\u253c\u2510a\u253c\u2510a",
        "(-1/2)! = \u221a\u03c0",
        "M\u00c4\u00a3\u00c4M \u00cc\u00d1\u00cc Q \u00a3\u00c4G\u00cc G\u00c4L\u00c4W",
        "Here's a control character: \x1a"}) {
    EXPECT_EQ(FixEncoding(text), text);
  }
  // U+001A is an ordinary control character to fix_text (ftfy uses byte 0x1A
  // internally for U+FFFD, which must not leak).
  EXPECT_EQ(FixText("Here's a control character: \x1a"), "Here's a control character: ");
}

}  // namespace
}  // namespace vlsm
