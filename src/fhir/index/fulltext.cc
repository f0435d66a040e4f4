#include "fhir/index/fulltext.h"

#include <boost/json.hpp>
#include <cstdint>

#include <utf8proc.h>

#include "fhir/index/normalize.h"

namespace crs::fhir::index {

namespace json = boost::json;

namespace {

bool WordByte(unsigned char c) {
  return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Appends the words of `text` to `out` (space-separated), counting them in
// `*count` and stopping at kMaxFullTextWords words or kMaxFullTextBytes.
void AppendWords(std::string_view text, std::string* out, size_t* count) {
  if (*count >= kMaxFullTextWords) return;
  for (std::string& w : FullTextWords(text)) {
    if (out->size() + 1 + w.size() > kMaxFullTextBytes) {
      *count = kMaxFullTextWords;  // full: no later (shorter) word either
      return;
    }
    if (!out->empty()) out->push_back(' ');
    out->append(w);
    if (++*count >= kMaxFullTextWords) return;
  }
}

// Decodes the character reference `ref` (between '&' and ';'); false when
// it is not one we know.
bool DecodeReference(std::string_view ref, std::string* out) {
  static const std::pair<std::string_view, std::string_view> kNamed[] = {
      {"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}, {"apos", "'"}, {"nbsp", " "}};
  for (const auto& [name, text] : kNamed) {
    if (ref == name) {
      out->append(text);
      return true;
    }
  }
  if (ref.size() < 2 || ref[0] != '#') return false;
  bool hex = ref[1] == 'x' || ref[1] == 'X';
  std::string_view digits = ref.substr(hex ? 2 : 1);
  if (digits.empty() || digits.size() > 8) return false;
  uint32_t cp = 0;
  for (char c : digits) {
    int d = c >= '0' && c <= '9'          ? c - '0'
            : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
            : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10
                                          : -1;
    if (d < 0) return false;
    cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(d);
  }
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
  utf8proc_uint8_t bytes[4];
  utf8proc_ssize_t n = utf8proc_encode_char(static_cast<utf8proc_int32_t>(cp), bytes);
  out->append(reinterpret_cast<const char*>(bytes), static_cast<size_t>(n));
  return true;
}

void Walk(const json::value& v, std::string_view key, std::string* out, size_t* count) {
  if (*count >= kMaxFullTextWords) return;
  switch (v.kind()) {
    case json::kind::string: {
      std::string_view s = v.get_string();
      if (key == "div") {
        AppendWords(XhtmlToText(s), out, count);
      } else {
        AppendWords(s, out, count);
      }
      break;
    }
    case json::kind::array:
      for (const auto& item : v.get_array()) Walk(item, key, out, count);
      break;
    case json::kind::object:
      for (const auto& member : v.get_object()) {
        std::string_view k = member.key();
        // Bookkeeping, the type name every resource of the type shares, and
        // base64 binary data hold no text a user searches for.
        if (k == "resourceType" || k == "meta" || k == "data") continue;
        Walk(member.value(), k, out, count);
      }
      break;
    default:
      break;  // numbers and booleans are not text
  }
}

}  // namespace

std::vector<std::string> FullTextWords(std::string_view text) {
  std::string norm = NormalizeString(text);
  std::vector<std::string> words;
  size_t i = 0;
  while (i < norm.size()) {
    while (i < norm.size() && !WordByte(static_cast<unsigned char>(norm[i]))) ++i;
    size_t start = i;
    while (i < norm.size() && WordByte(static_cast<unsigned char>(norm[i]))) ++i;
    if (i > start) {
      words.emplace_back(
          CutUtf8(std::string_view(norm).substr(start, i - start), kMaxFullTextWordBytes));
    }
  }
  return words;
}

std::string XhtmlToText(std::string_view x) {
  std::string out;
  out.reserve(x.size());
  size_t i = 0;
  while (i < x.size()) {
    char c = x[i];
    if (c == '<') {
      size_t end;
      if (x.substr(i, 4) == "<!--") {
        end = x.find("-->", i + 4);
        end = end == std::string_view::npos ? x.size() : end + 3;
      } else {
        end = x.find('>', i + 1);
        end = end == std::string_view::npos ? x.size() : end + 1;
      }
      out.push_back(' ');
      i = end;
    } else if (c == '&') {
      size_t semi = x.find(';', i + 1);
      if (semi != std::string_view::npos && semi - i <= 12 &&
          DecodeReference(x.substr(i + 1, semi - i - 1), &out)) {
        i = semi + 1;
      } else {
        out.push_back('&');
        ++i;
      }
    } else {
      out.push_back(c);
      ++i;
    }
  }
  return out;
}

FullTextRow ExtractFullText(const json::value& resource) {
  FullTextRow row;
  const json::object* obj = resource.if_object();
  if (obj == nullptr) return row;
  size_t count = 0;
  if (const json::value* text = obj->if_contains("text")) {
    if (const json::object* t = text->if_object()) {
      if (const json::value* div = t->if_contains("div"); div && div->is_string()) {
        AppendWords(XhtmlToText(div->get_string()), &row.narrative, &count);
      }
    }
  }
  count = 0;
  Walk(resource, "", &row.content, &count);
  return row;
}

Result<std::vector<FullTextTerm>> ParseFullTextQuery(std::string_view v) {
  std::vector<FullTextTerm> terms;
  size_t i = 0;
  while (i < v.size()) {
    if (v[i] == ' ' || v[i] == '\t') {
      ++i;
      continue;
    }
    std::string_view chunk;
    FullTextTerm term;
    if (v[i] == '"') {
      size_t close = v.find('"', i + 1);
      if (close == std::string_view::npos) return Status::Invalid("a quoted phrase is not closed");
      chunk = v.substr(i + 1, close - i - 1);
      i = close + 1;
      // "heart att"* : the phrase's last word is a prefix.
      if (i < v.size() && v[i] == '*') {
        term.prefix = true;
        ++i;
      }
    } else {
      size_t end = v.find_first_of(" \t\"", i);
      if (end == std::string_view::npos) end = v.size();
      chunk = v.substr(i, end - i);
      i = end;
    }
    // diab* and "heart att*": a trailing '*' makes the last word a prefix.
    while (!chunk.empty() && chunk.back() == '*') {
      term.prefix = true;
      chunk.remove_suffix(1);
    }
    term.words = FullTextWords(chunk);
    if (term.words.empty()) continue;  // punctuation alone
    terms.push_back(std::move(term));
    if (terms.size() > kMaxFullTextTerms) {
      return Status::Invalid("at most " + std::to_string(kMaxFullTextTerms) +
                             " words or phrases per value");
    }
  }
  if (terms.empty()) return Status::Invalid("no words to search for");
  return terms;
}

}  // namespace crs::fhir::index
