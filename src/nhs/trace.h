// Patient trace: deciding whether a Patient matches a PDS-style search and
// how well (docs/trace.md). Pure: no store, no HTTP; src/api/trace.cc finds
// the candidates through the search index and asks this module to judge them.
//
// Two modes, as PDS has:
//   - non-fuzzy (MatchExact): every criterion must hold; names equal after
//     folding (or as written with `exact`), `*` wildcards after the first two
//     characters; current data only unless `history`.
//   - fuzzy (ScoreFuzzy): a weighted score in [0, 1] over names (phonetic,
//     edit distance, nicknames, given/family transposed, historic names),
//     birth date (day/month swapped, one-field slips), gender, postcode
//     (partial, historic), practice and contact details.
//
// Restricted patients (confidentiality R on the Patient): postcode, practice,
// email and phone are never used for or against them, so they are found only
// by name and birth date.
//
// Thread safety: pure functions over values; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boost::json {
class object;
}

namespace crs::nhs::trace {

// ---- The rules, each on its own ----

// NormalizeString() with everything but the letters a–z removed:
// "O'Brien-Smith" → "obriensmith". Names are compared in this form.
std::string FoldName(std::string_view name);

// Optimal-string-alignment distance (Levenshtein plus the transposition of
// two adjacent characters) between two byte strings.
int EditDistance(std::string_view a, std::string_view b);

// How alike a queried name is to a stored one, in [0, 1] (both folded here):
// 1 equal; 0.9 same Soundex key and at most one edit per four letters of
// the longer name (at least one); 0.85 one edit (a typo, including a first
// letter Soundex keeps apart); same sound only: 0.75, or 0.5 when both names
// have fewer than six letters; 0.7 two edits in names of six letters or
// more; else 0.
double NameSimilarity(std::string_view query, std::string_view stored);

// Whether one given name is a common English short form of the other
// (Bill/William, Kate/Catherine, ...), in either direction, after folding.
bool AreNicknames(std::string_view a, std::string_view b);

// A given name's similarity: NameSimilarity, except that sound alone earns
// only 0.3 (it would not tell twins apart); 0.9 for a nickname, 0.6 for a
// lone initial ("J" for John).
double GivenSimilarity(std::string_view query, std::string_view stored);

// "YYYY-MM-DD" with day and month exchanged, when that is another valid date.
std::optional<std::string> SwapDayMonth(std::string_view date);

// How alike two birth dates are, in [0, 1]: 1 equal; 0.85 day and month
// swapped; 0.6 the year one off or one digit wrong with day and month equal;
// 0.5 one of day or month wrong; 0.8 a stored partial date (year or
// year-month) the query falls in; else 0.
double BirthDateSimilarity(std::string_view query, std::string_view stored);

// Upper case, no spaces: "ls1 4ab" → "LS14AB".
std::string NormalizePostcode(std::string_view postcode);

// How alike a queried postcode is to a stored one, in [0, 1]. A query of an
// outward code alone ("LS1") or an outward code and sector ("LS1 4") is
// partial: 0.9 when the stored postcode has that outward code (and sector).
// A full query: 1 equal; 0.5 same outward code; 0.2 same area letters.
double PostcodeSimilarity(std::string_view query, std::string_view stored);

// `pattern` with `*` matching any run of characters, against `value`.
bool WildcardMatch(std::string_view pattern, std::string_view value);

// ---- A patient as a trace sees it ----

struct TraceName {
  std::string family;
  std::vector<std::string> given;
  bool historic = false;
};

struct TraceAddress {
  std::string postcode;
  bool historic = false;
};

struct TraceTelecom {
  std::string system;  // "phone", "email", ...
  std::string value;
  bool historic = false;
};

struct TracePatient {
  std::string id;
  std::vector<TraceName> names;
  std::vector<TraceAddress> addresses;
  std::vector<TraceTelecom> telecoms;
  std::string gender;
  std::string birth_date;              // as written
  std::vector<std::string> practices;  // generalPractitioner ODS codes and reference ids
  bool restricted = false;             // meta.security R
};

// Reads a Patient resource. A name, address or telecom is historic when its
// `use` is "old" or its period ended before `today` ("YYYY-MM-DD").
TracePatient ReadPatient(const boost::json::object& patient, std::string_view today);

// ---- The query ----

struct TraceQuery {
  std::string family;
  std::vector<std::string> given;
  std::string gender;
  std::string birth_date;  // fuzzy: the queried day; non-fuzzy: the store filters dates
  std::string postcode;
  std::string practice;
  std::string email;
  std::string phone;
  bool history = false;  // non-fuzzy: historic names, addresses and telecoms count
  bool exact = false;    // non-fuzzy: names and postcode as written, no wildcards
};

// Score of a non-fuzzy match: 1 when current data matched, 0.9 when only
// historic data did (with `history`); nullopt when some criterion fails.
// Dates and gender are filtered by the store; gender is checked again here.
std::optional<double> MatchExact(const TraceQuery& query, const TracePatient& patient);

// The fuzzy score in [0, 1]: the weighted mean of the similarities of the
// criteria the query has (weights in docs/trace.md).
double ScoreFuzzy(const TraceQuery& query, const TracePatient& patient);

// A fuzzy candidate is a match from this score on.
inline constexpr double kFuzzyThreshold = 0.85;

}  // namespace crs::nhs::trace
