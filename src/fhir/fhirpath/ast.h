// The compiled form of a FHIRPath expression: an immutable tree built by the
// parser and walked by the evaluator. Internal to crs_fhirpath.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fhir/fhirpath/value.h"

namespace crs::fhirpath {

enum class NodeKind : uint8_t {
  kLiteral,   // literal
  kEmpty,     // {}
  kMember,    // focus.name, or name on $this when focus is null
  kFunction,  // focus.fn(args), or fn(args) on $this when focus is null
  kThis,      // $this
  kIndex,     // $index
  kTotal,     // $total
  kVariable,  // %name
  kIndexer,   // focus[args[0]]
  kUnary,     // -args[0] / +args[0]
  kBinary,    // args[0] op args[1]
  kTypeOp,    // args[0] is/as type
};

enum class Op : uint8_t {
  kNone,
  kMul,
  kDiv,
  kDivInt,
  kMod,
  kAdd,
  kSub,
  kConcat,
  kUnion,
  kLt,
  kGt,
  kLe,
  kGe,
  kEq,
  kEquiv,
  kNe,
  kNotEquiv,
  kIn,
  kContains,
  kAnd,
  kOr,
  kXor,
  kImplies,
  kIs,
  kAs,
};

enum class Fn : uint8_t {
  kEmpty, kExists, kAll, kAllTrue, kAnyTrue, kAllFalse, kAnyFalse, kSubsetOf, kSupersetOf,
  kCount, kDistinct, kIsDistinct,
  kWhere, kSelect, kRepeat, kOfType,
  kSingle, kFirst, kLast, kTail, kSkip, kTake, kIntersect, kExclude,
  kUnion, kCombine,
  kIif, kToBoolean, kConvertsToBoolean, kToInteger, kConvertsToInteger, kToDecimal,
  kConvertsToDecimal, kToString, kConvertsToString, kToDate, kConvertsToDate, kToDateTime,
  kConvertsToDateTime, kToTime, kConvertsToTime, kToQuantity, kConvertsToQuantity,
  kIndexOf, kSubstring, kStartsWith, kEndsWith, kContainsStr, kUpper, kLower, kReplace,
  kMatches, kMatchesFull, kReplaceMatches, kLength, kToChars, kTrim, kSplit, kJoin, kEncode,
  kDecode, kEscape, kUnescape,
  kAbs, kCeiling, kExp, kFloor, kLn, kLog, kPower, kRound, kSqrt, kTruncate,
  kChildren, kDescendants,
  kTrace, kNow, kToday, kTimeOfDay,
  kAggregate, kSort,
  kIs, kAs, kType, kNot,
  kExtension, kHasValue, kGetValue, kResolve, kMemberOf, kConformsTo, kHtmlChecks,
  kLowBoundary, kHighBoundary, kPrecision, kComparable,
};

// How a function treats its arguments.
struct FunctionInfo {
  std::string_view name;
  Fn fn;
  int8_t min_args;
  int8_t max_args;     // -1: unbounded
  uint8_t lambda_mask;  // bit i: argument i is evaluated per input item ($this, $index)
  bool type_argument;   // the argument is a type specifier (is, as, ofType)
};

// nullptr for unknown names.
const FunctionInfo* FindFunction(std::string_view name);

struct TypeSpec {
  std::string ns;    // "FHIR", "System" or "" when unqualified
  std::string name;  // "Patient", "Boolean", "string"
};

struct Node {
  NodeKind kind = NodeKind::kEmpty;
  Op op = Op::kNone;
  Fn fn = Fn::kEmpty;
  uint8_t lambda_mask = 0;  // kFunction: FunctionInfo::lambda_mask
  uint32_t pos = 0;       // offset in the source, for messages
  uint16_t height = 1;    // 1 + the tallest child; bounded by kMaxExpressionDepth
  std::string name;        // member, variable or function name
  Item literal;
  TypeSpec type;
  std::unique_ptr<Node> focus;  // kMember / kFunction / kIndexer; null = $this
  std::vector<std::unique_ptr<Node>> args;
  std::vector<bool> arg_descending;  // sort(): per argument
};

}  // namespace crs::fhirpath
