// Trace keys: index rows that let a patient trace (src/api/trace.cc,
// docs/trace.md) seek the few patients born on a day who share a name, a
// name's sound or a postcode district, instead of reading everyone born
// that day (about 300 patients per day at 10 million, 1,500 at 50 million),
// and those sounding like a name born within a year either side, instead
// of everyone with the name's sound.
//
// A node keeps them only when told to (`crs serve --trace-keys`): they cost
// creates of Patients about a third of their throughput. Each key is a
// string row of a Patient under a parameter of its own that no
// client may search (the codes start with "_trace-", which the search parser
// does not know):
//   kTraceFamily    the birth date, a space, every name's family,
//                   normalised as the `family` rows;
//   kTracePostcode  the birth date, a space, every address's postal code,
//                   normalised as the `address-postalcode` rows;
//   kTracePhonetic  every phonetic key (phonetic.h, always four characters)
//                   of every name's family and given names, as the
//                   `phonetic` rows, a space, then the birth date: sound
//                   first, so that a prefix "r163 1970" finds everyone
//                   sounding like Robert born in 1970.
// Historic names and addresses are included, as in those parameters. The
// date-first keys are written only for a full birth date (YYYY-MM-DD): no
// trace that uses them (an eq search on a day) would match a partial date.
// The phonetic keys are written for any birth date, as written (1970,
// 1970-05 or 1970-05-03), because a search by year matches a partial date
// in that year; a key for a day is never a prefix of another day's.
// (Version 1 of the keys had `_trace-sound`, date first and full dates
// only; schema migration 13 turns those rows around.)
//
// A store whose Patients were written before the keys existed lacks them
// until `crs reindex`: Store::TraceKeysComplete() says whether a trace may
// rely on them (docs/storage.md, "Trace keys").
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "fhir/index/index_entries.h"

namespace boost::json {
class object;
class value;
}

namespace crs::fhir::index {

inline constexpr std::string_view kTraceFamily = "_trace-family";
inline constexpr std::string_view kTracePhonetic = "_trace-phonetic";
inline constexpr std::string_view kTracePostcode = "_trace-postcode";

// Whether `date` is a full date YYYY-MM-DD (the only birth dates keyed).
bool IsFullDate(std::string_view date);

// The date-first key of `value` (already normalised) for a patient born
// on `day`.
std::string TraceKey(std::string_view day, std::string_view value);

// The kTracePhonetic key of phonetic key `sound` for a patient born on
// `date` (a day, a month or a year, as written).
std::string PhoneticTraceKey(std::string_view sound, std::string_view date);

// Whether `date` is a birth date of 4, 7 or 10 characters (YYYY, YYYY-MM,
// YYYY-MM-DD) with digits where they belong.
bool IsBirthDate(std::string_view date);

// Appends the trace keys of `patient` (a Patient resource) to out->strings.
void AppendTraceKeys(const boost::json::object& patient, IndexEntries* out);

// For a store that keeps trace keys (Store::KeepsTraceKeys): adds the keys
// of `resource`, when it is a Patient, to its ExtractIndex rows in `out`,
// keeping out->strings sorted and free of duplicates.
void AddTraceKeys(const boost::json::value& resource, IndexEntries* out);

}  // namespace crs::fhir::index
