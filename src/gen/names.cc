#include "gen/names.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string_view>
#include <utility>

extern "C" const char crs_gen_first_names_tsv[];
extern "C" const unsigned long crs_gen_first_names_tsv_size;

namespace crs::gen {
namespace {

struct WeightedName {
  const char* name;
  std::uint32_t weight;  // approximate bearers per million people
};

// Approximate frequencies of the commonest surnames of England and Wales
// (order of magnitude from published surname studies; not an official table).
// The tail keeps spelling variants (Clark/Clarke, Thompson/Thomson), names
// with apostrophes and hyphens, and the commonest names of South Asian,
// Irish, Scottish, Welsh, Polish and West African origin, since these are the
// hard cases for matching.
constexpr WeightedName kSurnames[] = {
    {"Smith", 12600}, {"Jones", 9900}, {"Williams", 6600}, {"Taylor", 5100},
    {"Brown", 4800}, {"Davies", 4700}, {"Evans", 3800}, {"Wilson", 3300},
    {"Thomas", 3200}, {"Johnson", 3100}, {"Roberts", 3000}, {"Robinson", 2500},
    {"Thompson", 2500}, {"Wright", 2400}, {"Walker", 2300}, {"White", 2200},
    {"Edwards", 2200}, {"Hughes", 2200}, {"Green", 2200}, {"Hall", 2100},
    {"Lewis", 2000}, {"Harris", 2000}, {"Clarke", 2000}, {"Patel", 2000},
    {"Jackson", 1900}, {"Wood", 1900}, {"Turner", 1700}, {"Martin", 1700},
    {"Cooper", 1700}, {"Hill", 1700}, {"Ward", 1600}, {"Morris", 1600},
    {"Moore", 1600}, {"Clark", 1600}, {"Lee", 1600}, {"King", 1600},
    {"Baker", 1500}, {"Harrison", 1500}, {"Morgan", 1500}, {"Allen", 1500},
    {"James", 1400}, {"Scott", 1400}, {"Phillips", 1400}, {"Watson", 1400},
    {"Davis", 1400}, {"Parker", 1400}, {"Price", 1300}, {"Bennett", 1300},
    {"Young", 1300}, {"Griffiths", 1300}, {"Mitchell", 1300}, {"Kelly", 1300},
    {"Cook", 1300}, {"Carter", 1300}, {"Richardson", 1200}, {"Bailey", 1200},
    {"Collins", 1200}, {"Bell", 1200}, {"Shaw", 1200}, {"Murphy", 1200},
    {"Miller", 1200}, {"Cox", 1200}, {"Richards", 1100}, {"Khan", 1100},
    {"Marshall", 1100}, {"Anderson", 1100}, {"Simpson", 1100}, {"Ellis", 1100},
    {"Adams", 1100}, {"Singh", 1100}, {"Begum", 1000}, {"Wilkinson", 1000},
    {"Foster", 1000}, {"Chapman", 1000}, {"Powell", 1000}, {"Webb", 1000},
    {"Rogers", 1000}, {"Gray", 1000}, {"Mason", 1000}, {"Ali", 1000},
    {"Hunt", 950}, {"Hussain", 950}, {"Campbell", 950}, {"Matthews", 950},
    {"Owen", 950}, {"Palmer", 950}, {"Holmes", 900}, {"Mills", 900},
    {"Barnes", 900}, {"Knight", 900}, {"Lloyd", 900}, {"Butler", 900},
    {"Russell", 900}, {"Barker", 900}, {"Fisher", 850}, {"Stevens", 850},
    {"Jenkins", 850}, {"Murray", 850}, {"Dixon", 850}, {"Harvey", 850},
    {"Graham", 800}, {"Pearson", 800}, {"Ahmed", 800}, {"Fletcher", 800},
    {"Walsh", 800}, {"Kaur", 800}, {"Gibson", 750}, {"Howard", 750},
    {"Andrews", 750}, {"Stewart", 750}, {"Elliott", 750}, {"Reynolds", 750},
    {"Saunders", 700}, {"Payne", 700}, {"Fox", 700}, {"Ford", 700},
    {"Pearce", 700}, {"Day", 700}, {"Brooks", 700}, {"West", 700},
    {"Lawrence", 700}, {"Cole", 650}, {"Atkinson", 650}, {"Bradley", 650},
    {"Spencer", 650}, {"Gill", 650}, {"Dawson", 650}, {"Ball", 650},
    {"Burton", 650}, {"O'Brien", 600}, {"Watts", 600}, {"Rose", 600},
    {"Booth", 600}, {"Perry", 600}, {"Ryan", 600}, {"Grant", 600},
    {"Wells", 600}, {"Armstrong", 600}, {"Francis", 600}, {"Rees", 600},
    {"Hayes", 550}, {"Hart", 550}, {"Hudson", 550}, {"Newman", 550},
    {"Barrett", 550}, {"Webster", 550}, {"Hunter", 550}, {"Gregory", 550},
    {"Carr", 550}, {"Lowe", 550}, {"Page", 550}, {"Marsh", 550},
    {"Riley", 500}, {"Dunn", 500}, {"Woods", 500}, {"Parsons", 500},
    {"Berry", 500}, {"Stone", 500}, {"Reid", 500}, {"Holland", 500},
    {"Hawkins", 500}, {"Harding", 500}, {"Porter", 500}, {"Robertson", 500},
    {"Newton", 500}, {"Oliver", 500}, {"Reed", 500}, {"Kennedy", 500},
    {"Williamson", 500}, {"Bird", 450}, {"Gardner", 450}, {"Shah", 450},
    {"Dean", 450}, {"Lane", 450}, {"Cooke", 450}, {"Bates", 450},
    {"Henderson", 450}, {"Parry", 450}, {"Burgess", 450}, {"Bishop", 450},
    {"Walton", 450}, {"Burns", 450}, {"Nicholson", 450}, {"Shepherd", 450},
    {"Ross", 450}, {"Cross", 400}, {"Long", 400}, {"Freeman", 400},
    {"Warren", 400}, {"Nicholls", 400}, {"Hamilton", 400}, {"Byrne", 400},
    {"Sutton", 400}, {"McDonald", 400}, {"Yates", 400}, {"Hodgson", 400},
    {"Robson", 400}, {"Curtis", 400}, {"Hopkins", 400}, {"O'Connor", 400},
    {"Harper", 400}, {"Coleman", 400}, {"Watkins", 400}, {"Moss", 400},
    {"McCarthy", 350}, {"Chambers", 350}, {"O'Neill", 350}, {"Griffin", 350},
    {"Sharp", 350}, {"Hardy", 350}, {"Wheeler", 350}, {"Potter", 350},
    {"Osborne", 350}, {"Johnston", 350}, {"Gordon", 350}, {"Doyle", 350},
    {"Wallace", 350}, {"George", 350}, {"Jordan", 350}, {"Hutchinson", 350},
    {"Rahman", 350}, {"Mahmood", 300}, {"Akhtar", 300}, {"Iqbal", 300},
    {"Chaudhry", 250}, {"Sharma", 250}, {"Mistry", 250}, {"Islam", 250},
    {"Uddin", 250}, {"Miah", 250}, {"Nowak", 200}, {"Kowalski", 150},
    {"Wisniewski", 120}, {"Okafor", 120}, {"Adeyemi", 120}, {"Mensah", 120},
    {"Nguyen", 120}, {"Chen", 150}, {"Wong", 150}, {"Li", 150},
    {"MacDonald", 200}, {"Thomson", 200}, {"Llewellyn", 150}, {"Pritchard", 250},
    {"Vaughan", 200}, {"Bowen", 250}, {"Powell-Jones", 30}, {"Smith-Jones", 30},
    {"Lloyd-Williams", 30}, {"Ashworth", 200}, {"Sykes", 200}, {"Greenwood", 250},
    {"Whitehead", 250}, {"Brennan", 200}, {"Kaye", 120}, {"Fairbrother", 60},
    {"Featherstone", 60}, {"Postlethwaite", 30}, {"Ramsbottom", 30}, {"Entwistle", 60},
};

struct FirstNameTables {
  // key: (year, sex) with year 0 = the full 2024 counts.
  std::map<std::pair<int, Sex>, NameList> lists;
};

NameList Build(std::vector<std::pair<std::string, std::uint32_t>> rows) {
  NameList list;
  std::vector<std::uint32_t> weights;
  for (auto& [name, weight] : rows) {
    list.names.push_back(std::move(name));
    weights.push_back(weight);
  }
  list.index = WeightedIndex(weights);
  return list;
}

FirstNameTables LoadFirstNames() {
  std::string_view data(crs_gen_first_names_tsv, crs_gen_first_names_tsv_size);
  std::map<std::pair<int, Sex>, std::vector<std::pair<std::string, std::uint32_t>>> rows;
  while (!data.empty()) {
    std::size_t eol = data.find('\n');
    std::string_view line = data.substr(0, eol);
    data = eol == std::string_view::npos ? std::string_view() : data.substr(eol + 1);
    if (line.empty() || line[0] == '#') continue;
    std::array<std::string_view, 4> f;
    std::size_t n = 0;
    while (n < 4) {
      std::size_t tab = line.find('\t');
      f[n++] = line.substr(0, tab);
      if (tab == std::string_view::npos) break;
      line = line.substr(tab + 1);
    }
    if (n != 4) continue;
    int year = std::atoi(std::string(f[0]).c_str());
    Sex sex = f[1] == "M" ? Sex::kMale : Sex::kFemale;
    auto weight = static_cast<std::uint32_t>(std::atol(std::string(f[3]).c_str()));
    rows[{year, sex}].emplace_back(std::string(f[2]), std::max<std::uint32_t>(weight, 1));
  }
  FirstNameTables tables;
  for (auto& [key, list] : rows) tables.lists.emplace(key, Build(std::move(list)));
  return tables;
}

const FirstNameTables& Tables() {
  static const FirstNameTables tables = LoadFirstNames();
  return tables;
}

}  // namespace

const NameList& FirstNamesFor(Sex sex, int birth_year) {
  const auto& lists = Tables().lists;
  int year = 0;
  if (birth_year < 2019) {
    // The ONS tables are for 1904, 1914, ..., 2014: take the nearest.
    int step = (std::clamp(birth_year, 1904, 2014) - 1904 + 5) / 10;
    year = 1904 + 10 * step;
  }
  auto it = lists.find({year, sex});
  if (it == lists.end()) it = lists.find({0, sex});
  return it->second;
}

const NameList& Surnames() {
  static const NameList list = [] {
    std::vector<std::pair<std::string, std::uint32_t>> rows;
    for (const auto& s : kSurnames) rows.emplace_back(s.name, s.weight);
    return Build(std::move(rows));
  }();
  return list;
}

}  // namespace crs::gen
