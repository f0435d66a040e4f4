// Lexer: FHIRPath text to tokens. Internal to crs_fhirpath.
//
// Handles // and /* */ comments, 'strings' with escapes (\' \" \` \\ \/ \f \n \r \t
// \uXXXX), `delimited identifiers`, numbers, @date/time literals, $this-style
// names and %variables (including %`quoted` and %'quoted').
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace crs::fhirpath {

enum class Tok : uint8_t {
  kEnd,
  kIdentifier,   // text: the name (also keywords: and, or, is, true, ...)
  kDelimited,    // `name`: text without backticks, never a keyword
  kString,       // text: unescaped
  kNumber,       // text: digits with an optional fraction
  kDateTime,     // text after '@'
  kSpecial,      // $this / $index / $total: text without '$'
  kVariable,     // %name: text without '%'
  kDot,
  kLBracket,
  kRBracket,
  kLParen,
  kRParen,
  kLBrace,
  kRBrace,
  kComma,
  kPlus,
  kMinus,
  kStar,
  kSlash,
  kAmp,
  kPipe,
  kLt,
  kGt,
  kLe,
  kGe,
  kEq,
  kNe,
  kTilde,
  kNotTilde,
};

struct Token {
  Tok kind = Tok::kEnd;
  uint32_t pos = 0;
  std::string text;
};

// Splits `text` into tokens ending with kEnd. Invalid on a malformed token, with the
// offset in the message.
Result<std::vector<Token>> Lex(std::string_view text);

}  // namespace crs::fhirpath
