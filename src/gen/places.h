// Places of England and Wales: postcode areas with their post towns, real
// district numbers and Ofcom drama telephone ranges, and street names.
//
// Postcodes are made of a real outward code (area + district, e.g. "LS6",
// "SW1A") and a random well-formed inward code ("2AB"); the full postcode is
// valid in format but not necessarily allocated by Royal Mail.
//
// Thread safety: immutable tables built on first use.
#pragma once

#include <string>
#include <vector>

#include "gen/random.h"

namespace crs::gen {

struct PostcodeArea {
  std::string code;                    // "LS"
  std::string post_town;               // "Leeds"
  std::vector<std::string> districts;  // outward codes: "LS1", ..., "LS29"
  std::string landline_prefix;         // drama range prefix, e.g. "0113 496 0"
  std::uint32_t weight = 1;            // relative share of practices
};

// All areas.
const std::vector<PostcodeArea>& PostcodeAreas();
// Picks an area with probability proportional to its weight.
const PostcodeArea& PickArea(Rng& rng);

// A full postcode "LS6 2AB" in `outward` (a district from an area).
std::string RandomPostcode(Rng& rng, const std::string& outward);
// A street name such as "Church Road".
std::string RandomStreet(Rng& rng);
// A phone number from the area's Ofcom drama range ("0113 496 0123").
std::string RandomLandline(Rng& rng, const PostcodeArea& area);
// A mobile number from the Ofcom drama range 07700 900000-900999.
std::string RandomMobile(Rng& rng);

// True when `postcode` has one of the six UK formats
// (A9 9AA, A99 9AA, AA9 9AA, AA99 9AA, A9A 9AA, AA9A 9AA).
bool IsWellFormedPostcode(const std::string& postcode);

}  // namespace crs::gen
