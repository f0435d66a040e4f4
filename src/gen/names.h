// First names and surnames of England and Wales, with frequency weights.
//
// First names come from the ONS baby-name tables (embedded
// data/first_names.tsv, built by tools/gen_name_tables.py): people born since
// 2019 get names weighted by the real 2024 counts; older people get the ONS
// top-100 of the year nearest their birth (1904, 1914, ... 2014), weighted by
// rank. Surnames are an approximate frequency table written from general
// knowledge of the commonest surnames of England and Wales (see docs/gen.md).
//
// Thread safety: the tables are built once, on first use, and immutable after.
#pragma once

#include <string>
#include <vector>

#include "gen/random.h"

namespace crs::gen {

struct NameList {
  std::vector<std::string> names;
  WeightedIndex index;
  const std::string& Pick(Rng& rng) const { return names[index.Pick(rng)]; }
};

enum class Sex { kMale, kFemale };

// The first-name list for people of `sex` born in `birth_year`.
const NameList& FirstNamesFor(Sex sex, int birth_year);

// The surname list.
const NameList& Surnames();

}  // namespace crs::gen
