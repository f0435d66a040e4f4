// NHS numbers: the 10-digit patient identifier of England and Wales, whose
// tenth digit is a Modulus 11 check digit over the first nine.
//
// Check digit: multiply digits 1..9 by weights 10..2, sum, take
// 11 - (sum % 11); a result of 11 means 0, and a result of 10 means the nine
// digits are never issued as a number. The number is valid when the result
// equals digit 10.
//
// Thread safety: pure functions over values; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace crs::nhs {

// Identifier.system of an NHS number.
inline constexpr std::string_view kNhsNumberSystem = "https://fhir.nhs.uk/Id/nhs-number";

// True when `value` is exactly 10 ASCII digits whose last digit is the
// Modulus 11 check digit of the first nine. No spaces or other characters are
// allowed (see NormaliseNhsNumber for human-typed input).
bool IsValidNhsNumber(std::string_view value);

// As IsValidNhsNumber, but says why a value is not valid: Invalid with a
// message for a client (empty, wrong length, a non-digit character, a check
// digit of 10, a check digit mismatch). Messages never echo the value.
Status ValidateNhsNumber(std::string_view value);

// The check digit (0..9) for the first nine digits of a number, or nullopt
// when `first_nine` is not exactly nine ASCII digits or its check digit would
// be 10 (no valid number starts with those digits).
std::optional<int> NhsCheckDigit(std::string_view first_nine);

// Turns an NHS number as a human might type it into its 10 digits: leading and
// trailing whitespace is ignored, and spaces and hyphens may separate digits
// ("943 476 5919", "943-476-5919"). Returns nullopt for anything else (letters,
// other punctuation, a separator at either end, not exactly 10 digits).
// Only the shape is checked; call IsValidNhsNumber on the result for the
// check digit.
std::optional<std::string> NormaliseNhsNumber(std::string_view value);

// The display form "943 476 5919" of anything NormaliseNhsNumber accepts;
// other input is returned unchanged. Does not check the check digit.
std::string FormatNhsNumber(std::string_view value);

// An inclusive range of 10-digit numbers from which an allocator hands out
// NHS numbers. Numbers are compared as integers, so 0123456789 is 123456789.
struct NhsNumberRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
};

// The synthetic test range (999 000 0000 - 999 999 9999): never issued to
// real patients.
inline constexpr NhsNumberRange kTestNhsNumberRange{9990000000ULL, 9999999999ULL};

// How many valid NHS numbers lie in `range`; Invalid when the range is empty
// or goes beyond 9999999999.
Result<std::uint64_t> ValidNhsNumbersInRange(const NhsNumberRange& range);

// Parses "FIRST-LAST" (two numbers of at most 10 digits, FIRST <= LAST)
// into a range holding at least one valid NHS number; Invalid otherwise.
Result<NhsNumberRange> ParseNhsNumberRange(std::string_view text);

// The `serial`-th (0-based) valid NHS number in `range`, in increasing order.
// Numbers whose check digit would be 10 are skipped, so serials map one-to-one
// onto valid numbers: an allocator persists a counter and calls this with
// 0, 1, 2, ... to get distinct, increasing, valid numbers. Deterministic and
// O(log range) (no scan). Errors: Invalid for a bad range, Unavailable when
// `serial` is past the last valid number in the range (range exhausted).
Result<std::string> NhsNumberFromSerial(std::uint64_t serial,
                                        const NhsNumberRange& range = kTestNhsNumberRange);

// The inverse: how many valid numbers of `range` lie below `number`, i.e.
// the serial NhsNumberFromSerial maps to `number` when it is valid.
// Invalid for a bad range or a number outside it.
Result<std::uint64_t> SerialOfNhsNumber(std::uint64_t number,
                                        const NhsNumberRange& range = kTestNhsNumberRange);

}  // namespace crs::nhs
