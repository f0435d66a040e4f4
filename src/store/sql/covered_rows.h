// Index rows a store leaves out because another parameter of the same
// resource holds the very same row (docs/search-index.md, "Rows a store
// leaves out"), and the parameters a search must then read as well.
//
// A Patient's `name` rows are its family, given, prefix, suffix and text
// values; `family` and `given` hold a subset of them. Storing a `name` row
// that a `family` or `given` row repeats costs two B-tree inserts for
// nothing once a `name` search also reads the `family` and `given` rows:
// the union of the three is exactly the set of `name` rows. The same holds
// for `address` (covered by `address-city`, `-country`, `-postalcode`,
// `-state`) and `telecom` (covered by `phone` and `email`). Every search
// that names the covered parameter (values, :missing, _sort) reads the
// union through the shared query builder (search_sql.cc), on both backends.
//
// The table is also written out in SQL by the migrations that removed the
// rows stored before (SQLite version 9, PostgreSQL version 7); a change here
// needs a migration of its own.
//
// Thread safety: pure functions over constant data.
#pragma once

#include <span>
#include <string_view>

#include "fhir/index/index_entries.h"

namespace crs::store::sql {

struct CoveredParam {
  std::string_view type;                // resource type
  std::string_view code;                // the parameter whose rows are left out
  std::span<const std::string_view> by;  // the parameters that hold them
};

// Every covered parameter, of every type.
std::span<const CoveredParam> CoveredParams();

// The parameters covering `code` on `type`; empty when it is not covered.
std::span<const std::string_view> CoveringParams(std::string_view type, std::string_view code);

// Whether `row` (one of `entries`' rows, of a resource of type `type`) is
// left out: its parameter is covered and a covering parameter's row of
// `entries` is equal to it in every column.
bool Covered(std::string_view type, const fhir::index::IndexEntries& entries,
             const fhir::index::StringRow& row);
bool Covered(std::string_view type, const fhir::index::IndexEntries& entries,
             const fhir::index::TokenRow& row);

}  // namespace crs::store::sql
