// Parser: tokens to the AST (ast.h). Internal to crs_fhirpath.
//
// Precedence, loosest first: implies; or xor; and; in contains; = ~ != !~;
// < > <= >=; |; is as; + - &; * / div mod; unary + -; then . [] and invocations.
// Binary operators associate left. Function names and argument counts are checked
// here, so a typo is a compile error rather than an empty result at run time.
#pragma once

#include <memory>
#include <string_view>

#include "core/status.h"
#include "fhir/fhirpath/ast.h"

namespace crs::fhirpath {

// Deepest nesting accepted (parentheses, operator chains, invocation chains): bounds
// the recursion of parsing and of evaluation.
// The deepest R4 invariant is 14 levels, the deepest search parameter less; at this
// limit evaluation needs under 256 KiB of stack (robustness_test.cc).
inline constexpr int kMaxExpressionDepth = 128;
// Longest expression text accepted.
inline constexpr size_t kMaxExpressionLength = 64 * 1024;

// Invalid with "FHIRPath syntax error at offset N: ..." on malformed input.
Result<std::unique_ptr<Node>> Parse(std::string_view text);

}  // namespace crs::fhirpath
