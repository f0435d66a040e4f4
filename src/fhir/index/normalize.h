// String normalisation for search: the one function both index extraction and the
// search layer apply, so a query value and a stored value meet in the same form.
//
// NormalizeString: Unicode NFKD (compatibility decomposition: ligatures "ﬁ" -> "fi",
// full-width forms, superscripts), combining marks removed ("é" -> "e"), default-
// ignorable characters removed (soft hyphen, zero-width space), case folded
// ("ß" -> "ss", "Å" -> "a"), similar characters lumped (Unicode spaces and dashes to
// ASCII), every run of whitespace collapsed to one space, leading and trailing
// whitespace removed. Punctuation is kept ("O'Brien" -> "o'brien"). Input that is
// not valid UTF-8 is folded byte-wise (ASCII letters lower-cased, other bytes kept).
// Pure ASCII input takes a fast path with the same result.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace crs::fhir::index {

// Longest normalised value stored, in bytes (cut at a character boundary).
inline constexpr size_t kMaxNormalizedBytes = 512;
// Longest exact value (StringRow::exact, token codes, URIs) stored, in bytes.
inline constexpr size_t kMaxExactBytes = 2048;

std::string NormalizeString(std::string_view text);

// NormalizeString, then cut to at most `max_bytes` without splitting a UTF-8
// sequence.
std::string NormalizeForIndex(std::string_view text, size_t max_bytes = kMaxNormalizedBytes);

// `text` cut to at most `max_bytes` without splitting a UTF-8 sequence.
std::string_view CutUtf8(std::string_view text, size_t max_bytes);

}  // namespace crs::fhir::index
