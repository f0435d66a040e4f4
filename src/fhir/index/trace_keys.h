// Trace keys: index rows that let a patient trace (src/api/trace.cc,
// docs/trace.md) seek the few patients born on a day who share a name, a
// name's sound or a postcode district, instead of reading everyone born
// that day (about 300 patients per day at 10 million, 1,500 at 50 million).
//
// A node keeps them only when told to (`crs serve --trace-keys`): they cost
// creates of Patients about a third of their throughput. Each key is a
// string row of a Patient under a parameter of its own that no
// client may search (the codes start with "_trace-", which the search parser
// does not know): the birth date as written (only a full YYYY-MM-DD), a
// space, then
//   kTraceFamily    every name's family, normalised as the `family` rows;
//   kTraceSound     every phonetic key (phonetic.h) of every name's family
//                   and given names, as the `phonetic` rows;
//   kTracePostcode  every address's postal code, normalised as the
//                   `address-postalcode` rows.
// Historic names and addresses are included, as in those parameters. A
// patient without a full birth date has no keys; no trace that could use
// them would match such a patient (an eq search on a day excludes a
// partial date).
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
inline constexpr std::string_view kTraceSound = "_trace-sound";
inline constexpr std::string_view kTracePostcode = "_trace-postcode";

// Whether `date` is a full date YYYY-MM-DD (the only birth dates keyed).
bool IsFullDate(std::string_view date);

// The key of `value` (already normalised) for a patient born on `day`.
std::string TraceKey(std::string_view day, std::string_view value);

// Appends the trace keys of `patient` (a Patient resource) to out->strings.
void AppendTraceKeys(const boost::json::object& patient, IndexEntries* out);

// For a store that keeps trace keys (Store::KeepsTraceKeys): adds the keys
// of `resource`, when it is a Patient, to its ExtractIndex rows in `out`,
// keeping out->strings sorted and free of duplicates.
void AddTraceKeys(const boost::json::value& resource, IndexEntries* out);

}  // namespace crs::fhir::index
