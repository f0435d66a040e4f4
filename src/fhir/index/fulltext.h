// Full-text search (_text and _content, docs/search-index.md "Full text"):
// the words a resource is found by, and the words of a query. Both sides go
// through FullTextWords, so a query word and a stored word meet in the same
// form -- the one NormalizeString gives the string parameters.
//
// A word is a run of ASCII letters and digits and of non-ASCII bytes in the
// normalised text; every other ASCII character separates words ("O'Brien" is
// "o" "brien", "2020-01-02" is "2020" "01" "02"). Stored text is those words
// joined by one space, so each backend's own tokenizer (SQLite FTS5's `ascii`,
// PostgreSQL's tsvector input) reads exactly these words back.
//
// Thread safety: pure functions.
#pragma once

#include <boost/json/fwd.hpp>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "fhir/index/index_entries.h"

namespace crs::fhir::index {

// Longest word kept, in bytes (cut at a character boundary).
inline constexpr size_t kMaxFullTextWordBytes = 100;
// Most words indexed per column of one resource (PostgreSQL keeps word
// positions up to 16,383), and most bytes of words (a PostgreSQL tsvector
// holds at most 1 MB); the rest of a longer text is not indexed.
inline constexpr size_t kMaxFullTextWords = 16383;
inline constexpr size_t kMaxFullTextBytes = 512 * 1024;

// The words of `text` (normalised, split, each cut to kMaxFullTextWordBytes).
std::vector<std::string> FullTextWords(std::string_view text);

// The text of an XHTML fragment (a narrative's `div`): tags and comments
// become word breaks, character references (&amp; &lt; &gt; &quot; &apos;
// &nbsp; &#n; &#xh;) are decoded; unknown entities are kept as written.
std::string XhtmlToText(std::string_view xhtml);

// The full-text row of a resource: `narrative` holds the words of text.div;
// `content` those of every string value of the resource (the narrative
// included), except resourceType, meta and base64 `data`.
FullTextRow ExtractFullText(const boost::json::value& resource);

// One term of a full-text query: adjacent words in this order (a "quoted
// phrase", or one word that splits into several); `prefix`: the last word
// matches as a prefix (written with a trailing `*`).
struct FullTextTerm {
  std::vector<std::string> words;
  bool prefix = false;
  friend bool operator==(const FullTextTerm&, const FullTextTerm&) = default;
};

// Most terms in one query alternative.
inline constexpr size_t kMaxFullTextTerms = 32;

// Parses one alternative of a _text / _content value (the value split on
// commas): terms separated by spaces, all of which must match; "..." a
// phrase; a trailing `*` a prefix. Invalid when it holds no word, when a
// quote is not closed, or when it has more than kMaxFullTextTerms terms.
Result<std::vector<FullTextTerm>> ParseFullTextQuery(std::string_view value);

}  // namespace crs::fhir::index
