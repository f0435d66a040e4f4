#include "fhir/index/phonetic.h"

#include <algorithm>

#include "fhir/index/normalize.h"

namespace crs::fhir::index {
namespace {

// Soundex digit of a lower-case letter: '0' for vowels (and y), which
// separate equal codes; 'h' for h and w, which do not.
char Code(char c) {
  switch (c) {
    case 'b': case 'f': case 'p': case 'v': return '1';
    case 'c': case 'g': case 'j': case 'k': case 'q': case 's': case 'x': case 'z': return '2';
    case 'd': case 't': return '3';
    case 'l': return '4';
    case 'm': case 'n': return '5';
    case 'r': return '6';
    case 'h': case 'w': return 'h';
    default: return '0';
  }
}

// Letters only, folded.
std::string Letters(std::string_view word) {
  std::string out;
  for (char c : NormalizeString(word)) {
    if (c >= 'a' && c <= 'z') out.push_back(c);
  }
  return out;
}

// English spellings of the same initial sound.
void RewriteInitial(std::string* w) {
  static const std::pair<const char*, const char*> kRewrites[] = {
      {"ph", "f"}, {"kn", "n"}, {"wr", "r"}, {"gn", "n"}, {"ps", "s"}};
  for (const auto& [from, to] : kRewrites) {
    if (w->size() > 2 && w->starts_with(from)) {
      w->replace(0, 2, to);
      break;
    }
  }
  if (!w->empty() && ((*w)[0] == 'k' || (*w)[0] == 'q')) (*w)[0] = 'c';
}

std::string SoundexOfLetters(std::string w) {
  if (w.empty()) return "";
  RewriteInitial(&w);
  std::string key(1, w[0]);
  char last = Code(w[0]);
  for (size_t i = 1; i < w.size() && key.size() < 4; ++i) {
    char c = Code(w[i]);
    if (c == 'h') continue;  // h and w: the codes either side still merge
    if (c != '0' && c != last) key.push_back(c);
    last = c;
  }
  key.resize(4, '0');
  return key;
}

}  // namespace

std::string Soundex(std::string_view word) { return SoundexOfLetters(Letters(word)); }

std::vector<std::string> PhoneticKeys(std::string_view text) {
  std::vector<std::string> words(1);
  for (char c : NormalizeString(text)) {
    if (c >= 'a' && c <= 'z') {
      words.back().push_back(c);
    } else if (c != '\'' && !words.back().empty()) {
      words.emplace_back();
    }
  }
  if (words.back().empty()) words.pop_back();
  std::vector<std::string> keys;
  std::string joined;
  for (const auto& w : words) {
    keys.push_back(SoundexOfLetters(w));
    joined += w;
  }
  if (words.size() > 1) keys.push_back(SoundexOfLetters(joined));
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

}  // namespace crs::fhir::index
