#include "fhir/index/normalize.h"

#include <utf8proc.h>

#include <cstdlib>

namespace crs::fhir::index {
namespace {

bool IsAsciiSpace(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Appends `c`, turning whitespace runs into one space and dropping leading spaces;
// the trailing one is trimmed by the caller.
void AppendCollapsed(char c, std::string* out) {
  if (IsAsciiSpace(static_cast<unsigned char>(c))) {
    if (!out->empty() && out->back() != ' ') out->push_back(' ');
    return;
  }
  out->push_back(c);
}

void TrimTrailingSpace(std::string* out) {
  if (!out->empty() && out->back() == ' ') out->pop_back();
}

std::string FoldBytes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    AppendCollapsed(c, &out);
  }
  TrimTrailingSpace(&out);
  return out;
}

bool IsAscii(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

}  // namespace

std::string NormalizeString(std::string_view text) {
  // For ASCII, NFKD, mark stripping and lumping are the identity and case folding
  // is A-Z -> a-z, so the byte fold gives utf8proc's answer without its allocation.
  if (IsAscii(text)) return FoldBytes(text);
  utf8proc_uint8_t* mapped = nullptr;
  auto options =
      static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_STRIPMARK |
                                     UTF8PROC_CASEFOLD | UTF8PROC_IGNORE | UTF8PROC_LUMP);
  utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                    static_cast<utf8proc_ssize_t>(text.size()), &mapped, options);
  if (n < 0) return FoldBytes(text);  // not UTF-8: never fail an index write over it
  std::string out;
  out.reserve(static_cast<size_t>(n));
  for (utf8proc_ssize_t i = 0; i < n; ++i) AppendCollapsed(static_cast<char>(mapped[i]), &out);
  std::free(mapped);
  TrimTrailingSpace(&out);
  return out;
}

std::string_view CutUtf8(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t cut = max_bytes;
  // Back up over continuation bytes (10xxxxxx) to the start of a character.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut);
}

std::string NormalizeForIndex(std::string_view text, size_t max_bytes) {
  std::string out = NormalizeString(text);
  if (out.size() <= max_bytes) return out;
  out.resize(CutUtf8(out, max_bytes).size());
  TrimTrailingSpace(&out);
  return out;
}

}  // namespace crs::fhir::index
