#include "model/clip_tokenizer.h"

#include <re2/re2.h>
#include <unicode/locid.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf16.h>
#include <zlib.h>

#include <algorithm>
#include <climits>
#include <fstream>
#include <functional>
#include <queue>
#include <tuple>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "model/safetensors.h"
#include "model/text_fixes.h"
#include "nlohmann/json.hpp"

namespace vlsm {
namespace {

using json = nlohmann::json;

// CLIP's merges file holds more merges than the vocabulary uses: HF and
// openai both keep lines 1 .. 49152 - 256 - 2 (the first is a header).
constexpr size_t kClipMerges = 49152 - 256 - 2;
constexpr char kStartOfText[] = "<|startoftext|>";
constexpr char kEndOfText[] = "<|endoftext|>";

// HF's pre-tokenization pattern (flag IGNORECASE), verbatim apart from \s,
// which Python's `regex` module reads as Unicode White_Space.
constexpr char kPretokenizePattern[] =
    "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|\\p{L}+|\\p{N}|"
    "[^\\t\\n\\x{0b}\\f\\r \\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}"
    "\\x{202f}\\x{205f}\\x{3000}\\p{L}\\p{N}]+";

// GPT-2/CLIP bytes_to_unicode(): printable Latin-1 bytes map to themselves,
// the other 68 to U+0100.. in byte order.
std::array<UChar32, 256> BytesToUnicode() {
  std::array<UChar32, 256> map{};
  int next = 0;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
    map[b] = printable ? b : 256 + next++;
  }
  return map;
}

std::string Utf8(UChar32 c) {
  std::string out;
  icu::UnicodeString(c).toUTF8String(out);
  return out;
}

// Strict UTF-8 as Python decodes it: no overlong forms, no surrogates,
// nothing above U+10FFFF, no truncated sequences.
bool IsValidUtf8(absl::string_view s) {
  const auto* b = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  for (size_t i = 0; i < n;) {
    const uint8_t c = b[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (i + len > n || b[i + 1] < lo || b[i + 1] > hi) return false;
    for (size_t k = 2; k < len; ++k) {
      if ((b[i + k] & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

// HF's whitespace_clean (regex \s+ -> " ", strip) followed by str.lower().
std::string CleanAndLower(const std::string& text) {
  const bool ascii = std::all_of(text.begin(), text.end(), [](char c) { return (c & 0x80) == 0; });
  if (ascii) {
    std::string out;
    bool pending_space = false;
    for (char c : text) {
      if (c == ' ' || (c >= '\t' && c <= '\r')) {
        pending_space = true;
        continue;
      }
      if (pending_space && !out.empty()) out += ' ';
      pending_space = false;
      out += absl::ascii_tolower(static_cast<unsigned char>(c));
    }
    return out;
  }
  const icu::UnicodeString in = icu::UnicodeString::fromUTF8(text);
  icu::UnicodeString cleaned;
  bool pending_space = false;
  for (int32_t i = 0; i < in.length();) {
    const UChar32 c = in.char32At(i);
    i += U16_LENGTH(c);
    // strip() also drops U+1C..U+1F, but ftfy has removed those already.
    if (u_hasBinaryProperty(c, UCHAR_WHITE_SPACE)) {
      pending_space = true;
      continue;
    }
    if (pending_space && !cleaned.isEmpty()) cleaned.append(u' ');
    pending_space = false;
    cleaned.append(c);
  }
  // The root locale gives Python's full, language-independent mapping.
  cleaned.toLower(icu::Locale::getRoot());
  std::string out;
  cleaned.toUTF8String(out);
  return out;
}

absl::StatusOr<std::string> ReadGzip(const std::string& path) {
  if (!std::ifstream(path).good()) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) return absl::InvalidArgumentError(absl::StrCat("cannot open ", path));
  std::string out;
  char buffer[1 << 16];
  int n;
  while ((n = gzread(file, buffer, sizeof(buffer))) > 0) out.append(buffer, n);
  int errnum = Z_OK;
  const std::string error = n < 0 ? gzerror(file, &errnum) : "";
  gzclose(file);
  if (n < 0) return absl::InvalidArgumentError(absl::StrCat(path, ": ", error));
  return out;
}

// merges.txt / the .gz: `text.strip().split("\n")[1 : 1 + kClipMerges]`
// (HF) resp. `text.split("\n")[...]` (openai), each line split on
// whitespace. Lines that are not a pair keep their rank slot but never match.
std::vector<std::pair<std::string, std::string>> ParseMerges(absl::string_view text, bool strip) {
  if (strip) text = absl::StripAsciiWhitespace(text);
  std::vector<std::pair<std::string, std::string>> merges;
  size_t line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line_no++ == 0) continue;
    if (merges.size() == kClipMerges) break;
    std::vector<absl::string_view> parts =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r\f\v"), absl::SkipEmpty());
    if (parts.size() == 2) {
      merges.emplace_back(std::string(parts[0]), std::string(parts[1]));
    } else {
      merges.emplace_back();  // placeholder: empty strings never match
    }
  }
  return merges;
}

// A special token in transformers' configs: a string or an AddedToken
// object {"content": ...}; null/absent leaves `out` unchanged.
absl::Status ReadTokenField(const json& config, const char* key, const std::string& file,
                            std::string* out) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return absl::OkStatus();
  if (it->is_string()) {
    *out = it->get<std::string>();
  } else if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
    *out = (*it)["content"].get<std::string>();
  } else {
    return absl::InvalidArgumentError(absl::StrCat(file, ": '", key, "' must be a string"));
  }
  return absl::OkStatus();
}

absl::StatusOr<json> ReadJson(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  json parsed = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return absl::InvalidArgumentError(absl::StrCat(path, ": not JSON"));
  if (!parsed.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a JSON object"));
  }
  return parsed;
}

}  // namespace

ClipBpeTokenizer::~ClipBpeTokenizer() = default;

absl::StatusOr<std::unique_ptr<ClipBpeTokenizer>> ClipBpeTokenizer::FromHfFiles(
    const std::string& vocab_json_path, const std::string& merges_txt_path,
    const std::string& tokenizer_config_path, const std::string& special_tokens_map_path,
    int64_t max_length, size_t cache_entries) {
  absl::StatusOr<json> vocab_json = ReadJson(vocab_json_path);
  if (!vocab_json.ok()) return vocab_json.status();
  absl::flat_hash_map<std::string, int64_t> vocab;
  for (auto it = vocab_json->begin(); it != vocab_json->end(); ++it) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(vocab_json_path, ": the id of '", it.key(), "' is not an integer >= 0"));
    }
    vocab[it.key()] = it->get<int64_t>();
  }
  absl::StatusOr<std::string> merges_text = ReadFileToString(merges_txt_path);
  if (!merges_text.ok()) return merges_text.status();

  // CLIPTokenizer's defaults; tokenizer_config.json, then
  // special_tokens_map.json, override them (as from_pretrained does).
  std::string bos = kStartOfText, eos = kEndOfText, pad = kEndOfText, unk = kEndOfText;
  std::vector<std::string> added;
  for (const std::string& path : {tokenizer_config_path, special_tokens_map_path}) {
    if (path.empty()) continue;
    absl::StatusOr<json> config = ReadJson(path);
    if (!config.ok()) return config.status();
    for (auto [key, out] : {std::pair{"bos_token", &bos}, std::pair{"eos_token", &eos},
                            std::pair{"pad_token", &pad}, std::pair{"unk_token", &unk}}) {
      if (absl::Status s = ReadTokenField(*config, key, path, out); !s.ok()) return s;
    }
    auto limit = config->find("model_max_length");
    // transformers writes a huge sentinel (1e30) for "no limit".
    if (limit != config->end() && limit->is_number() && limit->get<double>() >= 1 &&
        limit->get<double>() < 1e9) {
      max_length = std::min<int64_t>(max_length, limit->get<int64_t>());
    }
    auto decoder = config->find("added_tokens_decoder");
    if (decoder != config->end() && decoder->is_object()) {
      for (auto it = decoder->begin(); it != decoder->end(); ++it) {
        std::string content;
        if (absl::Status s = ReadTokenField(decoder.value(), it.key().c_str(), path, &content);
            !s.ok() || content.empty()) {
          continue;
        }
        int64_t id;
        if (!absl::SimpleAtoi(it.key(), &id) || id < 0) {
          return absl::InvalidArgumentError(
              absl::StrCat(path, ": added_tokens_decoder key '", it.key(), "' is not an id"));
        }
        vocab.try_emplace(content, id);
        added.push_back(content);
      }
    }
  }
  std::vector<std::string> split = {bos, eos, pad, unk};
  split.insert(split.end(), added.begin(), added.end());

  auto tokenizer = std::unique_ptr<ClipBpeTokenizer>(new ClipBpeTokenizer());
  absl::Status status = tokenizer->Init(std::move(vocab), ParseMerges(*merges_text, /*strip=*/true),
                                        split, bos, eos, pad, unk, max_length, cache_entries);
  if (!status.ok()) return status;
  return tokenizer;
}

absl::StatusOr<std::unique_ptr<ClipBpeTokenizer>> ClipBpeTokenizer::FromOpenAiGz(
    const std::string& path, int64_t max_length, size_t cache_entries) {
  absl::StatusOr<std::string> text = ReadGzip(path);
  if (!text.ok()) return text.status();
  if (!IsValidUtf8(*text)) return absl::InvalidArgumentError(absl::StrCat(path, ": not UTF-8"));
  const std::vector<std::pair<std::string, std::string>> merges =
      ParseMerges(*text, /*strip=*/false);
  // openai's SimpleTokenizer.__init__: the 256 byte symbols in
  // bytes_to_unicode() order (printable bytes first), the same with "</w>",
  // one token per merge, then the two special tokens.
  const std::array<UChar32, 256> byte_map = BytesToUnicode();
  std::vector<std::string> base;
  for (bool printable : {true, false}) {
    for (int b = 0; b < 256; ++b) {
      if ((byte_map[b] == b) == printable) base.push_back(Utf8(byte_map[b]));
    }
  }
  std::vector<std::string> tokens = base;
  for (const std::string& t : base) tokens.push_back(t + "</w>");
  for (const auto& [first, second] : merges) tokens.push_back(first + second);
  tokens.push_back(kStartOfText);
  tokens.push_back(kEndOfText);
  absl::flat_hash_map<std::string, int64_t> vocab;
  for (size_t i = 0; i < tokens.size(); ++i) vocab.insert_or_assign(tokens[i], i);

  auto tokenizer = std::unique_ptr<ClipBpeTokenizer>(new ClipBpeTokenizer());
  absl::Status status =
      tokenizer->Init(std::move(vocab), merges, {kStartOfText, kEndOfText}, kStartOfText,
                      kEndOfText, kEndOfText, kEndOfText, max_length, cache_entries);
  if (!status.ok()) return status;
  return tokenizer;
}

int32_t ClipBpeTokenizer::Symbol(const std::string& text) {
  auto [it, inserted] = symbol_ids_.try_emplace(text, static_cast<int32_t>(symbols_.size()));
  if (inserted) symbols_.push_back(text);
  return it->second;
}

absl::Status ClipBpeTokenizer::Init(absl::flat_hash_map<std::string, int64_t> vocab,
                                    const std::vector<std::pair<std::string, std::string>>& merges,
                                    const std::vector<std::string>& split_tokens,
                                    const std::string& bos, const std::string& eos,
                                    const std::string& pad, const std::string& unk,
                                    int64_t max_length, size_t cache_entries) {
  if (max_length < 2) {
    return absl::InvalidArgumentError(absl::StrCat("max_length must be >= 2, got ", max_length));
  }
  max_length_ = max_length;
  vocab_ = std::move(vocab);
  for (auto [name, token, out] :
       {std::tuple{"bos", &bos, &bos_id_}, std::tuple{"eos", &eos, &eos_id_},
        std::tuple{"pad", &pad, &pad_id_}, std::tuple{"unk", &unk, &unk_id_}}) {
    auto it = vocab_.find(*token);
    if (it == vocab_.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the ", name, " token '", *token, "' is not in the vocabulary"));
    }
    *out = it->second;
  }
  int64_t max_id = 0;
  for (const auto& [token, id] : vocab_) max_id = std::max(max_id, id);
  if (max_id >= (int64_t{1} << 24)) {
    return absl::InvalidArgumentError(absl::StrCat("vocabulary id ", max_id, " is implausible"));
  }
  id_to_token_.assign(max_id + 1, "");
  for (const auto& [token, id] : vocab_) id_to_token_[id] = token;

  const std::array<UChar32, 256> byte_map = BytesToUnicode();
  for (int b = 0; b < 256; ++b) {
    byte_text_[b] = Utf8(byte_map[b]);
    byte_symbol_[b] = Symbol(byte_text_[b]);
    byte_word_end_symbol_[b] = Symbol(byte_text_[b] + "</w>");
  }
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [first, second] = merges[rank];
    if (first.empty()) continue;
    const uint64_t key = (uint64_t{static_cast<uint32_t>(Symbol(first))} << 32) |
                         static_cast<uint32_t>(Symbol(second));
    // A repeated pair keeps its last rank, like HF's dict(zip(...)).
    merges_.insert_or_assign(key, Merge{static_cast<int32_t>(rank), Symbol(first + second)});
  }
  // The heap-based BPE is exact when every merge builds a new symbol out of
  // symbols that exist before it (true for trained merge lists, CLIP's
  // included); see BpeWithHeap.
  std::vector<int32_t> birth(symbols_.size(), INT32_MAX);
  for (int b = 0; b < 256; ++b) birth[byte_symbol_[b]] = birth[byte_word_end_symbol_[b]] = -1;
  heap_bpe_ = true;
  for (size_t rank = 0; rank < merges.size() && heap_bpe_; ++rank) {
    const auto& [first, second] = merges[rank];
    if (first.empty()) continue;
    const int32_t merged = symbol_ids_.at(first + second);
    const auto r = static_cast<int32_t>(rank);
    heap_bpe_ = birth[symbol_ids_.at(first)] < r && birth[symbol_ids_.at(second)] < r &&
                birth[merged] == INT32_MAX;
    birth[merged] = r;
  }
  symbol_vocab_ids_.reserve(symbols_.size());
  for (const std::string& s : symbols_) {
    auto it = vocab_.find(s);
    symbol_vocab_ids_.push_back(it == vocab_.end() ? unk_id_ : it->second);
  }

  for (const std::string& token : split_tokens) {
    auto it = vocab_.find(token);
    if (token.empty() || it == vocab_.end()) continue;
    if (std::none_of(split_tokens_.begin(), split_tokens_.end(),
                     [&](const auto& t) { return t.first == token; })) {
      split_tokens_.emplace_back(token, it->second);
    }
  }
  // Longest first, so that of two tokens starting at one place the longer wins.
  std::stable_sort(split_tokens_.begin(), split_tokens_.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });

  RE2::Options options;
  options.set_case_sensitive(false);
  options.set_log_errors(false);
  pretokenizer_ = std::make_unique<RE2>(kPretokenizePattern, options);
  if (!pretokenizer_->ok()) {
    return absl::InternalError(absl::StrCat("pre-tokenizer regex: ", pretokenizer_->error()));
  }
  cache_entries_per_shard_ = (cache_entries + kCacheShards - 1) / kCacheShards;
  return absl::OkStatus();
}

std::vector<int32_t> ClipBpeTokenizer::Bpe(absl::string_view word) const {
  std::vector<int32_t> symbols;
  symbols.reserve(word.size());
  for (size_t i = 0; i < word.size(); ++i) {
    const auto b = static_cast<uint8_t>(word[i]);
    symbols.push_back(i + 1 == word.size() ? byte_word_end_symbol_[b] : byte_symbol_[b]);
  }
  // The heap pays off on long words; short ones are quicker in passes.
  if (heap_bpe_ && word.size() > 24) {
    BpeWithHeap(&symbols);
  } else {
    BpeByPasses(&symbols);
  }
  for (int32_t& s : symbols) s = static_cast<int32_t>(symbol_vocab_ids_[s]);
  return symbols;
}

const ClipBpeTokenizer::Merge* ClipBpeTokenizer::FindMerge(int32_t left, int32_t right) const {
  auto it =
      merges_.find((uint64_t{static_cast<uint32_t>(left)} << 32) | static_cast<uint32_t>(right));
  return it == merges_.end() ? nullptr : &it->second;
}

// HF's CLIPTokenizer.bpe, literally: find the lowest-ranked adjacent pair,
// merge all its occurrences left to right, repeat. Quadratic in the word.
void ClipBpeTokenizer::BpeByPasses(std::vector<int32_t>* symbols) const {
  std::vector<int32_t> merged;
  while (symbols->size() > 1) {
    const Merge* best = nullptr;
    int32_t left = -1, right = -1;
    for (size_t i = 0; i + 1 < symbols->size(); ++i) {
      const Merge* m = FindMerge((*symbols)[i], (*symbols)[i + 1]);
      if (m != nullptr && (best == nullptr || m->rank < best->rank)) {
        best = m, left = (*symbols)[i], right = (*symbols)[i + 1];
      }
    }
    if (best == nullptr) break;
    merged.clear();
    for (size_t i = 0; i < symbols->size(); ++i) {
      if ((*symbols)[i] == left && i + 1 < symbols->size() && (*symbols)[i + 1] == right) {
        merged.push_back(best->merged);
        ++i;
      } else {
        merged.push_back((*symbols)[i]);
      }
    }
    symbols->swap(merged);
  }
}

// The same result in O(n log n): repeatedly merge the lowest-ranked,
// leftmost adjacent pair. While the passes algorithm works through one
// pair's occurrences, every pair a merge creates contains the new symbol, so
// (given heap_bpe_) it ranks after that pair, and the new symbol differs
// from both halves, so no new occurrence appears: the heap merges exactly
// the occurrences a pass would, in the same order.
void ClipBpeTokenizer::BpeWithHeap(std::vector<int32_t>* symbols) const {
  const int32_t n = static_cast<int32_t>(symbols->size());
  std::vector<int32_t>& sym = *symbols;  // by original position; -1 once merged away
  std::vector<int32_t> prev(n), next(n);
  for (int32_t i = 0; i < n; ++i) prev[i] = i - 1, next[i] = i + 1 < n ? i + 1 : -1;
  struct Candidate {
    uint64_t order;  // rank << 32 | position of the left symbol
    int32_t left, right;
    bool operator>(const Candidate& o) const { return order > o.order; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
  auto push = [&](int32_t i) {
    if (i < 0 || next[i] < 0) return;
    if (const Merge* m = FindMerge(sym[i], sym[next[i]]); m != nullptr) {
      heap.push({(uint64_t{static_cast<uint32_t>(m->rank)} << 32) | static_cast<uint32_t>(i),
                 sym[i], sym[next[i]]});
    }
  };
  for (int32_t i = 0; i + 1 < n; ++i) push(i);
  while (!heap.empty()) {
    const Candidate c = heap.top();
    heap.pop();
    const auto i = static_cast<int32_t>(c.order & 0xFFFFFFFF);
    const int32_t j = next[i];
    if (sym[i] != c.left || j < 0 || sym[j] != c.right) continue;  // stale
    sym[i] = FindMerge(c.left, c.right)->merged;
    sym[j] = -1;
    next[i] = next[j];
    if (next[j] >= 0) prev[next[j]] = i;
    push(prev[i]);
    push(i);
  }
  int32_t out = 0;
  for (int32_t i = 0; i >= 0 && i < n; i = next[i]) sym[out++] = sym[i];
  symbols->resize(out);
}

std::vector<int64_t> ClipBpeTokenizer::BpeForTesting(absl::string_view word, bool reference) const {
  std::vector<int32_t> symbols;
  for (size_t i = 0; i < word.size(); ++i) {
    const auto b = static_cast<uint8_t>(word[i]);
    symbols.push_back(i + 1 == word.size() ? byte_word_end_symbol_[b] : byte_symbol_[b]);
  }
  if (reference) {
    BpeByPasses(&symbols);
  } else {
    BpeWithHeap(&symbols);
  }
  return std::vector<int64_t>(symbols.begin(), symbols.end());
}

void ClipBpeTokenizer::EncodeWord(absl::string_view word, std::vector<int64_t>* ids) const {
  if (cache_entries_per_shard_ == 0) {
    for (int32_t id : Bpe(word)) ids->push_back(id);
    return;
  }
  CacheShard& shard = cache_[absl::Hash<absl::string_view>{}(word) % kCacheShards];
  {
    absl::MutexLock lock(&shard.mu);
    auto it = shard.words.find(word);
    if (it != shard.words.end()) {
      ids->insert(ids->end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int32_t> word_ids = Bpe(word);
  ids->insert(ids->end(), word_ids.begin(), word_ids.end());
  absl::MutexLock lock(&shard.mu);
  // Bounded: a full shard starts over rather than tracking recency.
  if (shard.words.size() >= cache_entries_per_shard_) shard.words.clear();
  shard.words.try_emplace(std::string(word), std::move(word_ids));
}

void ClipBpeTokenizer::EncodePiece(absl::string_view piece, size_t limit,
                                   std::vector<int64_t>* ids) const {
  const std::string text = CleanAndLower(FixText(piece));
  // re.findall: every alternative starts on a non-space character and the
  // only whitespace left is single spaces, so each match starts right after
  // the spaces; an anchored match there needs no unanchored search and no
  // submatch extraction.
  re2::StringPiece rest(text);
  while (ids->size() < limit && !rest.empty()) {
    if (rest[0] == ' ') {
      rest.remove_prefix(1);
      continue;
    }
    re2::StringPiece match;
    if (!pretokenizer_->Match(rest, 0, rest.size(), RE2::ANCHOR_START, &match, 1) ||
        match.empty()) {
      rest.remove_prefix(1);  // unreachable: some alternative matches any character
      continue;
    }
    rest.remove_prefix(match.size());
    const absl::string_view word(match.data(), match.size());
    // HF's BPE cache starts with these two, so they bypass BPE.
    if (word == kStartOfText || word == kEndOfText) {
      auto it = vocab_.find(word);
      ids->push_back(it == vocab_.end() ? unk_id_ : it->second);
    } else {
      EncodeWord(word, ids);
    }
  }
}

absl::StatusOr<TokenizedText> ClipBpeTokenizer::Encode(absl::string_view text) const {
  if (text.size() > kMaxPromptBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("prompt is ", text.size(), " bytes; the limit is ", kMaxPromptBytes));
  }
  if (!IsValidUtf8(text)) return absl::InvalidArgumentError("prompt is not valid UTF-8");
  const size_t limit = static_cast<size_t>(max_length_ - 2);
  std::vector<int64_t> content;
  // Special tokens are found in the raw text first; the pieces between them
  // are encoded independently.
  size_t pos = 0;
  while (pos < text.size() && content.size() < limit) {
    size_t found = absl::string_view::npos;
    const std::pair<std::string, int64_t>* special = nullptr;
    for (const auto& token : split_tokens_) {
      const size_t at = text.find(token.first, pos);
      if (at < found) found = at, special = &token;
    }
    const size_t end = special == nullptr ? text.size() : found;
    if (end > pos) EncodePiece(text.substr(pos, end - pos), limit, &content);
    if (special == nullptr) break;
    content.push_back(special->second);
    pos = found + special->first.size();
  }
  content.resize(std::min(content.size(), limit));

  TokenizedText out;
  out.input_ids.reserve(max_length_);
  out.input_ids.push_back(bos_id_);
  out.input_ids.insert(out.input_ids.end(), content.begin(), content.end());
  out.input_ids.push_back(eos_id_);
  out.attention_mask.assign(out.input_ids.size(), 1);
  out.input_ids.resize(max_length_, pad_id_);
  out.attention_mask.resize(max_length_, 0);
  return out;
}

absl::string_view ClipBpeTokenizer::IdToToken(int64_t id) const {
  if (id < 0 || id >= static_cast<int64_t>(id_to_token_.size())) return {};
  return id_to_token_[id];
}

size_t ClipBpeTokenizer::cache_size() const {
  size_t total = 0;
  for (const CacheShard& shard : cache_) {
    absl::MutexLock lock(&shard.mu);
    total += shard.words.size();
  }
  return total;
}

}  // namespace vlsm
