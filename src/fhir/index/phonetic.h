// Phonetic keys for the `phonetic` search parameter and the NHS trace
// (src/nhs/trace.h): a name is stored and queried by the sound of each of
// its words, so "Smyth" finds "Smith" and "Jonathon" finds "Jonathan".
//
// The key is American Soundex (Knuth, TAOCP vol. 3; the US National Archives
// rules, with H and W not separating equal codes) over the name folded by
// NormalizeString() with everything but letters removed, plus a few English
// initial-letter rewrites Soundex otherwise misses because it keeps the first
// letter: PH→F, KN→N, WR→R, GN→N, PS→S, and K/Q→C (Katherine/Catherine,
// Philip/Filip). Keys are four characters, lower case ("s530").
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace crs::fhir::index {

// The Soundex key of one word ("Robert" → "r163"); "" when the word has no
// letter a–z after folding.
std::string Soundex(std::string_view word);

// The keys of every word of `text` (split at spaces, hyphens and other
// non-letters, apostrophes dropped so O'Brien is one word), and of the words
// run together when there are several ("Smith-Jones" → s530, j520, s532),
// sorted and without duplicates.
std::vector<std::string> PhoneticKeys(std::string_view text);

}  // namespace crs::fhir::index
