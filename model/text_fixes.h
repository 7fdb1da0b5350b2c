// ftfy.fix_text (ftfy 6.2.3, default TextFixerConfig) for prompt cleanup.
//
// HF's CLIPTokenizer runs every prompt piece through ftfy.fix_text when ftfy
// is installed, as it is in VLSM-Adapter's environment, so token ids depend on
// it. This is a port of the deterministic parts that fix_text applies, in
// ftfy's order, per line (segments ending in '\n'), each line repeated until
// nothing changes:
//   unescape_html (only until the first line that contains '<'), fix_encoding
//   (mojibake repair, with restore_byte_a0, replace_lossy_sequences,
//   decode_inconsistent_utf8 and fix_c1_controls), fix_c1_controls,
//   fix_latin_ligatures, fix_character_width, uncurl_quotes, fix_line_breaks,
//   remove_terminal_escapes, remove_control_chars, NFC.
// fix_surrogates has nothing to do: valid UTF-8 cannot carry surrogates.
//
// Data: the single-byte code pages come from ICU's converters; the mojibake
// character classes are ftfy's (Apache-2.0, see text_fixes.cc); HTML entities
// are Python's html.entities.html5 table, generated at configure time (see
// model/tokenizer.cmake), or a compact built-in subset when the build had no
// Python (then VLSM_HTML_ENTITIES_COMPACT is defined).
//
// Threading: all functions are pure and thread-safe (shared tables are built
// once, on first use).
// Errors: none; input is expected to be valid UTF-8 (the tokenizer checks),
// and an ill-formed sequence is treated as U+FFFD, never a crash.
#ifndef VLSM_MODEL_TEXT_FIXES_H_
#define VLSM_MODEL_TEXT_FIXES_H_

#include <string>

#include "absl/strings/string_view.h"

namespace vlsm {

// ftfy.fix_text(text) with ftfy's default configuration.
std::string FixText(absl::string_view utf8);

// The individual steps, exposed for tests and diagnostics.
// ftfy.fix_encoding: undoes UTF-8 that was decoded as a single-byte code page.
std::string FixEncoding(absl::string_view utf8);
// ftfy.fixes.unescape_html: only complete entities ("&...;").
std::string UnescapeHtml(absl::string_view utf8);
// ftfy.badness.is_bad: whether the text contains likely mojibake.
bool LooksLikeMojibake(absl::string_view utf8);

}  // namespace vlsm

#endif  // VLSM_MODEL_TEXT_FIXES_H_
