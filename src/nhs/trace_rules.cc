// The single fuzzy rules of a trace (names, dates, postcodes); trace.cc
// combines them.
#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "fhir/index/normalize.h"
#include "fhir/index/phonetic.h"
#include "nhs/trace.h"

namespace crs::nhs::trace {
namespace {

// Short forms of English given names. Each line is a group of names that
// stand for one another; a name may be in several groups (Chris).
constexpr const char* kNicknameGroups[] = {
    "william bill billy will willy liam",
    "robert bob bobby rob robbie bert",
    "james jim jimmy jamie",
    "john jack johnny jon",
    "jonathan jon jonny",
    "michael mike mick mickey mikey",
    "david dave davy",
    "stephen steven steve stevie",
    "thomas tom tommy",
    "anthony tony",
    "christopher chris kit",
    "christine chris chrissie tina",
    "christina chris tina",
    "catherine kate katie cathy kathy cath kat",
    "katherine kate katie kathy kat",
    "elizabeth liz lizzie beth betty bess libby eliza",
    "margaret maggie meg peggy maisie",
    "susan sue susie",
    "jennifer jenny jen",
    "alexander alex alec sandy",
    "alexandra alex sandra sandy lexi",
    "samuel sam sammy",
    "samantha sam sammy",
    "daniel dan danny",
    "matthew matt matty",
    "nicholas nick nicky",
    "andrew andy drew",
    "benjamin ben benny",
    "charles charlie chas chuck",
    "charlotte charlie lottie",
    "henry harry hal hank",
    "harold harry hal",
    "edward ed eddie ted teddy ned",
    "frederick fred freddie",
    "joseph joe joey",
    "josephine jo josie",
    "joanne jo",
    "richard rick ricky dick richie",
    "patrick pat paddy",
    "patricia pat patsy trish tricia",
    "deborah debbie deb",
    "victoria vicky vicki tori",
    "abigail abby abbie",
    "eleanor ellie nell nellie",
    "rebecca becky becca",
    "amanda mandy",
    "jessica jess jessie",
    "jacqueline jackie jacqui",
    "geoffrey geoff",
    "gregory greg",
    "kenneth ken kenny",
    "leonard len lenny leo",
    "ronald ron ronnie",
    "donald don donny",
    "philip phil pip",
    "peter pete",
    "timothy tim timmy",
    "raymond ray",
    "stanley stan",
    "albert bert bertie al",
    "alfred alf alfie fred",
    "gerald gerry",
    "oliver ollie olly",
    "theodore theo ted",
    "joshua josh",
    "zachary zac zack",
    "nathan nate",
    "nathaniel nate nat",
    "jacob jake",
    "isabella izzy bella",
    "isabel izzy bel",
    "evelyn evie",
    "mary molly polly mae",
    "sarah sally sadie",
    "anne annie",
    "ann annie",
    "amelia millie milly",
    "mildred millie milly",
    "emily em emmy",
    "emma em",
    "lucy lu",
    "florence flo florrie",
    "dorothy dot dottie dolly",
    "pamela pam",
    "valerie val",
    "barbara barb babs",
    "kimberley kim",
    "lawrence larry laurie",
    "terence terry",
    "douglas doug",
    "francis frank",
    "frances fran frankie",
    "louise lou",
    "louis lou",
    "sophia sophie",
    "gabriel gabe",
    "maximilian max",
    "maxwell max",
    "archibald archie",
    "tobias toby",
};

using NicknameIndex = std::map<std::string, std::set<int>, std::less<>>;

const NicknameIndex& Nicknames() {
  static const NicknameIndex index = [] {
    NicknameIndex out;
    int group = 0;
    for (const char* line : kNicknameGroups) {
      std::string_view rest(line);
      while (!rest.empty()) {
        size_t sp = rest.find(' ');
        out[std::string(rest.substr(0, sp))].insert(group);
        rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
      }
      ++group;
    }
    return out;
  }();
  return index;
}

bool ValidDate(int y, int m, int d) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= kDays[m - 1] + (m == 2 && leap ? 1 : 0);
}

// "YYYY-MM-DD" → {y, m, d}; nullopt otherwise.
std::optional<std::array<int, 3>> ParseDay(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  auto num = [&](size_t at, size_t n) {
    int v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return -1;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  std::array<int, 3> out{num(0, 4), num(5, 2), num(8, 2)};
  if (!ValidDate(out[0], out[1], out[2])) return std::nullopt;
  return out;
}

// The outward code of a normalised postcode (all but the last three characters
// of a full one).
std::string_view Outward(std::string_view pc) {
  return pc.size() > 4 ? pc.substr(0, pc.size() - 3) : pc;
}

std::string_view AreaLetters(std::string_view pc) {
  size_t n = 0;
  while (n < pc.size() && n < 2 && pc[n] >= 'A' && pc[n] <= 'Z') ++n;
  return pc.substr(0, n);
}

}  // namespace

std::string FoldName(std::string_view name) {
  std::string out;
  for (char c : fhir::index::NormalizeString(name)) {
    if (c >= 'a' && c <= 'z') out.push_back(c);
  }
  return out;
}

int EditDistance(std::string_view a, std::string_view b) {
  // Three rows of the optimal-string-alignment table.
  std::vector<int> prev2(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        cur[j] = std::min(cur[j], prev2[j - 2] + 1);
      }
    }
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

double NameSimilarity(std::string_view query, std::string_view stored) {
  std::string q = FoldName(query), s = FoldName(stored);
  if (q.empty() || s.empty()) return 0;
  if (q == s) return 1;
  int d = EditDistance(q, s);
  size_t longer = std::max(q.size(), s.size()), shorter = std::min(q.size(), s.size());
  bool same_sound = fhir::index::Soundex(q) == fhir::index::Soundex(s);
  // An edit in every four letters still spells the same name; Soundex alone
  // is weak evidence in short names (Jane, John, Joan and Jean share j500).
  if (same_sound && d <= std::max<int>(1, static_cast<int>(longer / 4))) return 0.9;
  if (d == 1 && shorter >= 3) return 0.85;
  if (same_sound) return longer >= 6 ? 0.75 : 0.5;
  if (d == 2 && shorter >= 6) return 0.7;
  return 0;
}

bool AreNicknames(std::string_view a, std::string_view b) {
  std::string fa = FoldName(a), fb = FoldName(b);
  if (fa.empty() || fa == fb) return false;
  const NicknameIndex& index = Nicknames();
  auto ia = index.find(fa), ib = index.find(fb);
  if (ia == index.end() || ib == index.end()) return false;
  for (int g : ia->second) {
    if (ib->second.count(g)) return true;
  }
  return false;
}

double GivenSimilarity(std::string_view query, std::string_view stored) {
  std::string q = FoldName(query), s = FoldName(stored);
  if (q.empty() || s.empty()) return 0;
  double best = NameSimilarity(q, s);
  // Sound alone does not tell twins apart (Jack and Jake): little credit.
  if (best < 0.85 && best > 0) best = 0.3;
  if (best < 0.9 && AreNicknames(q, s)) best = 0.9;
  if (best < 0.6 && (q.size() == 1 || s.size() == 1) && q[0] == s[0]) best = 0.6;
  return best;
}

std::optional<std::string> SwapDayMonth(std::string_view date) {
  auto d = ParseDay(date);
  if (!d || (*d)[1] == (*d)[2] || !ValidDate((*d)[0], (*d)[2], (*d)[1])) return std::nullopt;
  std::string out(date);
  std::swap(out[5], out[8]);
  std::swap(out[6], out[9]);
  return out;
}

double BirthDateSimilarity(std::string_view query, std::string_view stored) {
  if (query.empty() || stored.empty()) return 0;
  if (query == stored) return 1;
  if (stored.size() < 10) return query.starts_with(stored) ? 0.8 : 0;
  auto q = ParseDay(query), s = ParseDay(stored.substr(0, 10));
  if (!q || !s) return 0;
  if (SwapDayMonth(query) == std::string(stored.substr(0, 10))) return 0.85;
  auto [qy, qm, qd] = *q;
  auto [sy, sm, sd] = *s;
  if (qm == sm && qd == sd) {
    bool one_off = qy - sy == 1 || sy - qy == 1;
    bool one_digit = EditDistance(query.substr(0, 4), stored.substr(0, 4)) == 1;
    return one_off || one_digit ? 0.6 : 0;
  }
  if (qy == sy && (qm == sm || qd == sd)) return 0.5;
  return 0;
}

std::string NormalizePostcode(std::string_view postcode) {
  std::string out;
  for (char c : postcode) {
    if (c == ' ' || c == '\t') continue;
    out.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  }
  return out;
}

double PostcodeSimilarity(std::string_view query, std::string_view stored) {
  std::string s = NormalizePostcode(stored);
  std::string q = NormalizePostcode(query);
  if (q.empty() || s.empty()) return 0;
  // A partial query: an outward code ("LS1"), or outward code and sector
  // ("LS1 4"), as written with its space or short enough to be one.
  std::string_view raw = query;
  while (!raw.empty() && raw.back() == ' ') raw.remove_suffix(1);
  size_t space = raw.find(' ');
  bool partial = (space == std::string_view::npos && q.size() <= 4) ||
                 (space != std::string_view::npos && raw.size() - space - 1 < 3);
  if (partial) {
    std::string outward = NormalizePostcode(raw.substr(0, space));
    std::string sector = space == std::string_view::npos ? "" : NormalizePostcode(raw.substr(space));
    return Outward(s) == outward && s.substr(Outward(s).size()).starts_with(sector) ? 0.9 : 0;
  }
  if (q == s) return 1;
  if (Outward(q) == Outward(s)) return 0.5;
  if (!AreaLetters(q).empty() && AreaLetters(q) == AreaLetters(s)) return 0.2;
  return 0;
}

bool WildcardMatch(std::string_view pattern, std::string_view value) {
  // Greedy glob with backtracking to the last '*'.
  size_t p = 0, v = 0, star = std::string_view::npos, mark = 0;
  while (v < value.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = v;
    } else if (p < pattern.size() && pattern[p] == value[v]) {
      ++p;
      ++v;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      v = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace crs::nhs::trace
