#include "gen/places.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace crs::gen {
namespace {

struct AreaSpec {
  const char* code;
  const char* post_town;
  // Comma-separated districts: numbers, ranges "1-29" or sub-districts "1A".
  const char* districts;
  const char* landline_prefix;  // Ofcom drama range: 4th-to-last digit fixed
  std::uint32_t weight;         // roughly the area's population, in 10,000s
};

// Real outward codes of (mostly) the post town itself; 01632 960 is Ofcom's
// drama range with no geographic meaning, used where no city range exists.
constexpr AreaSpec kAreas[] = {
    {"LS", "Leeds", "1-29", "0113 496 0", 80},
    {"YO", "York", "1,10,23,24,26,30,31,32", "01632 960", 21},
    {"M", "Manchester", "1-4,8,9,11-23,40", "0161 496 0", 55},
    {"B", "Birmingham", "1-48", "0121 496 0", 110},
    {"BS", "Bristol", "1-16", "0117 496 0", 47},
    {"NE", "Newcastle upon Tyne", "1-7,12,13,15", "0191 498 0", 30},
    {"S", "Sheffield", "1-14,17,20,21,35,36", "0114 496 0", 58},
    {"L", "Liverpool", "1-19,24,25,27", "0151 496 0", 50},
    {"NG", "Nottingham", "1-11", "0115 496 0", 33},
    {"LE", "Leicester", "1-5", "0116 496 0", 37},
    {"RG", "Reading", "1,2,4,5,6,30,31", "0118 496 0", 17},
    {"E", "London", "1-18,1W", "020 7946 0", 90},
    {"N", "London", "1-22,1C", "020 7946 0", 85},
    {"W", "London", "2-14,1B,1C,1D,1F,1G,1H,1J,1K,1S,1T,1U,1W", "020 7946 0", 70},
    {"EC", "London", "1A,1M,1N,1R,1V,1Y,2A,2M,2N,2R,2V,2Y,3A,3M,3N,3R,3V,4A,4M,4N,4R,4V,4Y",
     "020 7946 0", 3},
    {"WC", "London", "1A,1B,1E,1H,1N,1R,1V,1X,2A,2B,2E,2H,2N,2R", "020 7946 0", 3},
    {"SW", "London", "1A,1E,1H,1P,1V,1W,1X,1Y,2-20", "020 7946 0", 95},
    {"SE", "London", "1-28", "020 7946 0", 100},
    {"NW", "London", "1-11", "020 7946 0", 60},
    {"CB", "Cambridge", "1-5", "01632 960", 15},
    {"OX", "Oxford", "1-4", "01632 960", 15},
    {"PL", "Plymouth", "1-9", "01632 960", 26},
    {"EX", "Exeter", "1-4", "01632 960", 13},
    {"SO", "Southampton", "14-19", "01632 960", 25},
    {"PO", "Portsmouth", "1-6", "01632 960", 21},
    {"BN", "Brighton", "1,2", "01632 960", 23},
    {"CV", "Coventry", "1-6", "01632 960", 37},
    {"ST", "Stoke-on-Trent", "1-4,6", "01632 960", 26},
    {"DE", "Derby", "1-3,21-24", "01632 960", 26},
    {"HU", "Hull", "1-9", "01632 960", 27},
    {"BD", "Bradford", "1-10", "01632 960", 50},
    {"HX", "Halifax", "1-3", "01632 960", 10},
    {"HD", "Huddersfield", "1-5", "01632 960", 15},
    {"WF", "Wakefield", "1,2", "01632 960", 10},
    {"DN", "Doncaster", "1-12", "01632 960", 31},
    {"SR", "Sunderland", "1-6", "0191 498 0", 28},
    {"TS", "Middlesbrough", "1-8", "01632 960", 15},
    {"DH", "Durham", "1", "0191 498 0", 5},
    {"CA", "Carlisle", "1-3", "01632 960", 11},
    {"LA", "Lancaster", "1,2", "01632 960", 9},
    {"PR", "Preston", "1,2", "01632 960", 14},
    {"BB", "Blackburn", "1,2", "01632 960", 15},
    {"BL", "Bolton", "1-6", "01632 960", 29},
    {"WN", "Wigan", "1-6", "01632 960", 33},
    {"WA", "Warrington", "1-5", "01632 960", 21},
    {"CH", "Chester", "1-4", "01632 960", 12},
    {"NR", "Norwich", "1-7", "01632 960", 21},
    {"IP", "Ipswich", "1-4", "01632 960", 14},
    {"CO", "Colchester", "1-4", "01632 960", 13},
    {"CM", "Chelmsford", "1-3", "01632 960", 12},
    {"MK", "Milton Keynes", "1-15", "01632 960", 29},
    {"NN", "Northampton", "1-7", "01632 960", 23},
    {"PE", "Peterborough", "1-7", "01632 960", 21},
    {"GL", "Gloucester", "1-4", "01632 960", 13},
    {"BA", "Bath", "1,2", "01632 960", 10},
    {"TR", "Truro", "1", "01632 960", 4},
    {"CF", "Cardiff", "3,5,10,11,14,15,23,24", "029 2018 0", 36},
    {"SA", "Swansea", "1-7", "01632 960", 24},
};

// Royal Mail never uses C, I, K, M, O or V in the inward code's letters.
constexpr std::string_view kInwardLetters = "ABDEFGHJLNPQRSTUWXYZ";

constexpr const char* kStreetNames[] = {
    "Church", "Station", "Victoria", "Park", "Queen's", "King's", "Mill", "High",
    "Manor", "Green", "York", "Albert", "Oak", "Elm", "Chestnut", "Beech",
    "Willow", "Meadow", "Grange", "Windsor", "Alexandra", "Springfield", "Highfield",
    "Westfield", "Belmont", "Cromwell", "Nelson", "Wellington", "Stanley", "Clarence",
    "Mount Pleasant", "Newton", "Hawthorn", "Orchard", "Ash", "Birch", "Cedar",
    "Holly", "Laburnum", "Rosebery", "St John's", "St Mary's", "Greenacre", "Kings",
    "Marlborough", "Gladstone", "Trinity", "Brook", "Riverside", "Farm", "Hill",
    "School", "Chapel", "North", "South", "London", "Bridge", "Castle", "Fairfield",
    "Moorland", "Lime", "Sycamore", "Poplar", "Rowan", "Heather", "Primrose",
};
constexpr const char* kStreetKinds[] = {
    "Road", "Street", "Avenue", "Lane", "Close", "Drive", "Way", "Crescent",
    "Grove", "Gardens", "Terrace", "Place", "Court", "Walk", "View", "Rise",
};

void AddDistricts(const AreaSpec& spec, std::vector<std::string>* out) {
  std::string_view list = spec.districts;
  while (!list.empty()) {
    std::size_t comma = list.find(',');
    std::string item(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    std::size_t dash = item.find('-');
    if (dash != std::string::npos) {
      int lo = std::atoi(item.substr(0, dash).c_str());
      int hi = std::atoi(item.substr(dash + 1).c_str());
      for (int d = lo; d <= hi; ++d) out->push_back(spec.code + std::to_string(d));
    } else {
      out->push_back(spec.code + item);
    }
  }
}

struct AreaTable {
  std::vector<PostcodeArea> areas;
  WeightedIndex index;
};

const AreaTable& Areas() {
  static const AreaTable table = [] {
    AreaTable t;
    std::vector<std::uint32_t> weights;
    for (const auto& spec : kAreas) {
      PostcodeArea area;
      area.code = spec.code;
      area.post_town = spec.post_town;
      AddDistricts(spec, &area.districts);
      area.landline_prefix = spec.landline_prefix;
      area.weight = spec.weight;
      weights.push_back(spec.weight);
      t.areas.push_back(std::move(area));
    }
    t.index = WeightedIndex(weights);
    return t;
  }();
  return table;
}

bool IsAlpha(char c) { return c >= 'A' && c <= 'Z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

const std::vector<PostcodeArea>& PostcodeAreas() { return Areas().areas; }

const PostcodeArea& PickArea(Rng& rng) { return Areas().areas[Areas().index.Pick(rng)]; }

std::string RandomPostcode(Rng& rng, const std::string& outward) {
  std::string s = outward;
  s += ' ';
  s += static_cast<char>('0' + rng.Below(10));
  s += kInwardLetters[rng.Below(kInwardLetters.size())];
  s += kInwardLetters[rng.Below(kInwardLetters.size())];
  return s;
}

std::string RandomStreet(Rng& rng) {
  std::string s = kStreetNames[rng.Below(std::size(kStreetNames))];
  s += ' ';
  s += kStreetKinds[rng.Below(std::size(kStreetKinds))];
  return s;
}

std::string RandomLandline(Rng& rng, const PostcodeArea& area) {
  char digits[8];
  std::snprintf(digits, sizeof digits, "%03u", rng.Below(1000));
  return area.landline_prefix + digits;
}

std::string RandomMobile(Rng& rng) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "07700 900%03u", rng.Below(1000));
  return buf;
}

bool IsWellFormedPostcode(const std::string& p) {
  std::size_t space = p.find(' ');
  if (space == std::string::npos || p.size() != space + 4) return false;
  if (!IsDigit(p[space + 1]) || !IsAlpha(p[space + 2]) || !IsAlpha(p[space + 3])) return false;
  std::string_view out(p.data(), space);
  auto shape = [&](std::string_view pattern) {
    if (out.size() != pattern.size()) return false;
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (pattern[i] == 'A' ? !IsAlpha(out[i]) : !IsDigit(out[i])) return false;
    }
    return true;
  };
  return shape("A9") || shape("A99") || shape("AA9") || shape("AA99") || shape("A9A") ||
         shape("AA9A");
}

}  // namespace crs::gen
