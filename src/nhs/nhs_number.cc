#include "nhs/nhs_number.h"

#include <algorithm>
#include <array>
#include <cstdio>

namespace crs::nhs {
namespace {

constexpr int kStemDigits = 9;
constexpr std::uint64_t kStemCount = 1000000000ULL;  // 10^9 nine-digit stems
constexpr std::uint64_t kMaxNumber = 9999999999ULL;

bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

// The weight of stem digit `position` (0-based, left to right): 10..2.
constexpr int Weight(int position) { return 10 - position; }

// A stem's check digit is 10 exactly when its weighted sum is 1 mod 11.
constexpr int kUnusableResidue = 1;

int Mod11(long long v) { return static_cast<int>(((v % 11) + 11) % 11); }

std::optional<int> CheckDigitOfStem(std::uint64_t stem) {
  int sum = 0;
  for (int position = kStemDigits - 1; position >= 0; --position) {
    sum += static_cast<int>(stem % 10) * Weight(position);
    stem /= 10;
  }
  int check = 11 - sum % 11;
  if (check == 11) return 0;
  if (check == 10) return std::nullopt;
  return check;
}

// kSuffixSums[len][r]: how many digit strings of length `len`, filling the
// last `len` stem positions (weights len+1 .. 2), have weighted sum = r mod 11.
// Lets us count valid stems below a bound digit by digit instead of scanning.
using SuffixTable = std::array<std::array<std::uint64_t, 11>, kStemDigits + 1>;

SuffixTable BuildSuffixTable() {
  SuffixTable table{};
  table[0][0] = 1;
  for (int len = 1; len <= kStemDigits; ++len) {
    int weight = len + 1;
    for (int r = 0; r < 11; ++r) {
      for (int d = 0; d <= 9; ++d) table[len][r] += table[len - 1][Mod11(r - d * weight)];
    }
  }
  return table;
}

const SuffixTable& Suffixes() {
  static const SuffixTable table = BuildSuffixTable();
  return table;
}

constexpr std::array<std::uint64_t, kStemDigits + 1> kPow10 = {
    1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000};

std::uint64_t Pow10(int n) { return kPow10[n]; }

// Number of stems s in [0, bound) whose check digit is not 10; bound <= 10^9.
std::uint64_t ValidStemsBelow(std::uint64_t bound) {
  const SuffixTable& suffixes = Suffixes();
  if (bound >= kStemCount) return kStemCount - suffixes[kStemDigits][kUnusableResidue];
  std::uint64_t count = 0;
  int prefix_sum = 0;
  std::uint64_t divisor = kStemCount / 10;
  for (int position = 0; position < kStemDigits; ++position, divisor /= 10) {
    int digit = static_cast<int>(bound / divisor % 10);
    int remaining = kStemDigits - 1 - position;
    for (int d = 0; d < digit; ++d) {
      int needed = Mod11(kUnusableResidue - prefix_sum - d * Weight(position));
      count += Pow10(remaining) - suffixes[remaining][needed];
    }
    prefix_sum += digit * Weight(position);
  }
  return count;
}

// The stem s with exactly `n` valid stems in [0, s) that is itself valid;
// n < ValidStemsBelow(kStemCount).
std::uint64_t NthValidStem(std::uint64_t n) {
  const SuffixTable& suffixes = Suffixes();
  std::uint64_t stem = 0;
  int prefix_sum = 0;
  for (int position = 0; position < kStemDigits; ++position) {
    int remaining = kStemDigits - 1 - position;
    int digit = 0;
    for (; digit < 9; ++digit) {
      int needed = Mod11(kUnusableResidue - prefix_sum - digit * Weight(position));
      std::uint64_t valid = Pow10(remaining) - suffixes[remaining][needed];
      if (n < valid) break;
      n -= valid;
    }
    stem = stem * 10 + static_cast<std::uint64_t>(digit);
    prefix_sum += digit * Weight(position);
  }
  return stem;
}

// The stems [lo, hi] whose numbers (stem * 10 + check) all lie in `range`, or
// nullopt when no stem qualifies. Stems whose check digit is 10 may sit at
// either end; they contribute no number, so they do not matter.
struct StemSpan {
  std::uint64_t lo;
  std::uint64_t hi;
};

Result<std::optional<StemSpan>> StemsOf(const NhsNumberRange& range) {
  if (range.first > range.last || range.last > kMaxNumber) {
    return Status::Invalid("NHS number range must satisfy first <= last <= 9999999999");
  }
  std::uint64_t lo = range.first / 10;
  std::uint64_t hi = range.last / 10;
  if (auto check = CheckDigitOfStem(lo); check && lo * 10 + *check < range.first) ++lo;
  if (auto check = CheckDigitOfStem(hi); check && hi * 10 + *check > range.last) {
    if (hi == 0) return std::optional<StemSpan>();
    --hi;
  }
  if (lo > hi) return std::optional<StemSpan>();
  return std::optional<StemSpan>(StemSpan{lo, hi});
}

}  // namespace

std::optional<int> NhsCheckDigit(std::string_view first_nine) {
  if (first_nine.size() != kStemDigits) return std::nullopt;
  std::uint64_t stem = 0;
  for (char c : first_nine) {
    if (!IsAsciiDigit(c)) return std::nullopt;
    stem = stem * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return CheckDigitOfStem(stem);
}

Status ValidateNhsNumber(std::string_view value) {
  if (value.empty()) return Status::Invalid("NHS number is empty");
  if (value.size() != 10) {
    return Status::Invalid("NHS number must be exactly 10 digits (got " +
                           std::to_string(value.size()) + " characters)");
  }
  for (size_t i = 0; i < value.size(); ++i) {
    if (!IsAsciiDigit(value[i])) {
      return Status::Invalid("NHS number must contain only digits 0-9 (character " +
                             std::to_string(i + 1) + " is not one)");
    }
  }
  std::optional<int> check = NhsCheckDigit(value.substr(0, kStemDigits));
  if (!check) {
    return Status::Invalid(
        "NHS number is not valid: its first nine digits give a Modulus 11 check digit of 10, "
        "so no such number is issued");
  }
  if (*check != value[9] - '0') {
    return Status::Invalid(
        "NHS number is not valid: its check digit (the tenth digit) does not "
        "match the Modulus 11 check of the first nine");
  }
  return Status::Ok();
}

bool IsValidNhsNumber(std::string_view value) { return ValidateNhsNumber(value).ok(); }

std::optional<std::string> NormaliseNhsNumber(std::string_view value) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!value.empty() && is_space(value.front())) value.remove_prefix(1);
  while (!value.empty() && is_space(value.back())) value.remove_suffix(1);
  if (value.empty() || !IsAsciiDigit(value.front()) || !IsAsciiDigit(value.back())) {
    return std::nullopt;
  }
  std::string digits;
  for (char c : value) {
    if (IsAsciiDigit(c)) {
      if (digits.size() == 10) return std::nullopt;
      digits.push_back(c);
    } else if (c != ' ' && c != '-') {
      return std::nullopt;
    }
  }
  if (digits.size() != 10) return std::nullopt;
  return digits;
}

std::string FormatNhsNumber(std::string_view value) {
  std::optional<std::string> digits = NormaliseNhsNumber(value);
  if (!digits) return std::string(value);
  return digits->substr(0, 3) + " " + digits->substr(3, 3) + " " + digits->substr(6, 4);
}

Result<std::uint64_t> ValidNhsNumbersInRange(const NhsNumberRange& range) {
  CRS_ASSIGN_OR_RETURN(std::optional<StemSpan> span, StemsOf(range));
  if (!span) return std::uint64_t{0};
  return ValidStemsBelow(span->hi + 1) - ValidStemsBelow(span->lo);
}

Result<NhsNumberRange> ParseNhsNumberRange(std::string_view text) {
  size_t dash = text.find('-');
  auto number = [](std::string_view digits) -> std::optional<std::uint64_t> {
    if (digits.empty() || digits.size() > 10) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return v;
  };
  if (dash == std::string_view::npos) {
    return Status::Invalid("an NHS number range is FIRST-LAST, e.g. 9990000000-9999999999");
  }
  auto first = number(text.substr(0, dash));
  auto last = number(text.substr(dash + 1));
  if (!first || !last || *first > *last) {
    return Status::Invalid("an NHS number range is FIRST-LAST with FIRST <= LAST, "
                           "each at most 10 digits");
  }
  NhsNumberRange range{*first, *last};
  CRS_ASSIGN_OR_RETURN(std::uint64_t valid, ValidNhsNumbersInRange(range));
  if (valid == 0) return Status::Invalid("the NHS number range holds no valid NHS number");
  return range;
}

Result<std::uint64_t> SerialOfNhsNumber(std::uint64_t number, const NhsNumberRange& range) {
  CRS_ASSIGN_OR_RETURN(std::optional<StemSpan> span, StemsOf(range));
  if (!span || number < range.first || number > range.last) {
    return Status::Invalid("the NHS number is outside the range");
  }
  std::uint64_t stem = std::clamp(number / 10, span->lo, span->hi + 1);
  return ValidStemsBelow(stem) - ValidStemsBelow(span->lo);
}

Result<std::string> NhsNumberFromSerial(std::uint64_t serial, const NhsNumberRange& range) {
  CRS_ASSIGN_OR_RETURN(std::optional<StemSpan> span, StemsOf(range));
  const std::uint64_t before = span ? ValidStemsBelow(span->lo) : 0;
  if (!span || ValidStemsBelow(span->hi + 1) - before <= serial) {
    return Status::Unavailable("NHS number range exhausted");
  }
  // The (before + serial)-th valid stem (0-based), chosen digit by digit:
  // each candidate digit's count of valid stems comes from the suffix table,
  // 90 table reads instead of a binary search over ValidStemsBelow.
  const std::uint64_t lo = NthValidStem(before + serial);
  std::optional<int> check = CheckDigitOfStem(lo);
  if (!check) return Status::Internal("NHS number allocation chose a stem without a check digit");
  char buffer[16];
  std::snprintf(buffer, sizeof(buffer), "%09llu%d", static_cast<unsigned long long>(lo), *check);
  return std::string(buffer);
}

}  // namespace crs::nhs
