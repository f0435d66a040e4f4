// The function table: names, argument counts and which arguments are evaluated
// per input item.
#include "fhir/fhirpath/ast.h"

namespace crs::fhirpath {
namespace {

constexpr uint8_t kL0 = 1;  // argument 0 is a lambda
constexpr uint8_t kL1 = 2;
constexpr uint8_t kAll = 0xFF;

constexpr FunctionInfo kFunctions[] = {
    {"empty", Fn::kEmpty, 0, 0, 0, false},
    {"exists", Fn::kExists, 0, 1, kL0, false},
    {"all", Fn::kAll, 1, 1, kL0, false},
    {"allTrue", Fn::kAllTrue, 0, 0, 0, false},
    {"anyTrue", Fn::kAnyTrue, 0, 0, 0, false},
    {"allFalse", Fn::kAllFalse, 0, 0, 0, false},
    {"anyFalse", Fn::kAnyFalse, 0, 0, 0, false},
    {"subsetOf", Fn::kSubsetOf, 1, 1, 0, false},
    {"supersetOf", Fn::kSupersetOf, 1, 1, 0, false},
    {"count", Fn::kCount, 0, 0, 0, false},
    {"distinct", Fn::kDistinct, 0, 0, 0, false},
    {"isDistinct", Fn::kIsDistinct, 0, 0, 0, false},
    {"where", Fn::kWhere, 1, 1, kL0, false},
    {"select", Fn::kSelect, 1, 1, kL0, false},
    {"repeat", Fn::kRepeat, 1, 1, kL0, false},
    {"ofType", Fn::kOfType, 1, 1, 0, true},
    {"single", Fn::kSingle, 0, 0, 0, false},
    {"first", Fn::kFirst, 0, 0, 0, false},
    {"last", Fn::kLast, 0, 0, 0, false},
    {"tail", Fn::kTail, 0, 0, 0, false},
    {"skip", Fn::kSkip, 1, 1, 0, false},
    {"take", Fn::kTake, 1, 1, 0, false},
    {"intersect", Fn::kIntersect, 1, 1, 0, false},
    {"exclude", Fn::kExclude, 1, 1, 0, false},
    {"union", Fn::kUnion, 1, 1, 0, false},
    {"combine", Fn::kCombine, 1, 1, 0, false},
    {"iif", Fn::kIif, 2, 3, kAll, false},
    {"toBoolean", Fn::kToBoolean, 0, 0, 0, false},
    {"convertsToBoolean", Fn::kConvertsToBoolean, 0, 0, 0, false},
    {"toInteger", Fn::kToInteger, 0, 0, 0, false},
    {"convertsToInteger", Fn::kConvertsToInteger, 0, 0, 0, false},
    {"toDecimal", Fn::kToDecimal, 0, 0, 0, false},
    {"convertsToDecimal", Fn::kConvertsToDecimal, 0, 0, 0, false},
    {"toString", Fn::kToString, 0, 0, 0, false},
    {"convertsToString", Fn::kConvertsToString, 0, 0, 0, false},
    {"toDate", Fn::kToDate, 0, 0, 0, false},
    {"convertsToDate", Fn::kConvertsToDate, 0, 0, 0, false},
    {"toDateTime", Fn::kToDateTime, 0, 0, 0, false},
    {"convertsToDateTime", Fn::kConvertsToDateTime, 0, 0, 0, false},
    {"toTime", Fn::kToTime, 0, 0, 0, false},
    {"convertsToTime", Fn::kConvertsToTime, 0, 0, 0, false},
    {"toQuantity", Fn::kToQuantity, 0, 1, 0, false},
    {"convertsToQuantity", Fn::kConvertsToQuantity, 0, 1, 0, false},
    {"indexOf", Fn::kIndexOf, 1, 1, 0, false},
    {"substring", Fn::kSubstring, 1, 2, 0, false},
    {"startsWith", Fn::kStartsWith, 1, 1, 0, false},
    {"endsWith", Fn::kEndsWith, 1, 1, 0, false},
    {"contains", Fn::kContainsStr, 1, 1, 0, false},
    {"upper", Fn::kUpper, 0, 0, 0, false},
    {"lower", Fn::kLower, 0, 0, 0, false},
    {"replace", Fn::kReplace, 2, 2, 0, false},
    {"matches", Fn::kMatches, 1, 1, 0, false},
    {"matchesFull", Fn::kMatchesFull, 1, 1, 0, false},
    {"replaceMatches", Fn::kReplaceMatches, 2, 2, 0, false},
    {"length", Fn::kLength, 0, 0, 0, false},
    {"toChars", Fn::kToChars, 0, 0, 0, false},
    {"trim", Fn::kTrim, 0, 0, 0, false},
    {"split", Fn::kSplit, 1, 1, 0, false},
    {"join", Fn::kJoin, 0, 1, 0, false},
    {"encode", Fn::kEncode, 1, 1, 0, false},
    {"decode", Fn::kDecode, 1, 1, 0, false},
    {"escape", Fn::kEscape, 1, 1, 0, false},
    {"unescape", Fn::kUnescape, 1, 1, 0, false},
    {"abs", Fn::kAbs, 0, 0, 0, false},
    {"ceiling", Fn::kCeiling, 0, 0, 0, false},
    {"exp", Fn::kExp, 0, 0, 0, false},
    {"floor", Fn::kFloor, 0, 0, 0, false},
    {"ln", Fn::kLn, 0, 0, 0, false},
    {"log", Fn::kLog, 1, 1, 0, false},
    {"power", Fn::kPower, 1, 1, 0, false},
    {"round", Fn::kRound, 0, 1, 0, false},
    {"sqrt", Fn::kSqrt, 0, 0, 0, false},
    {"truncate", Fn::kTruncate, 0, 0, 0, false},
    {"children", Fn::kChildren, 0, 0, 0, false},
    {"descendants", Fn::kDescendants, 0, 0, 0, false},
    {"trace", Fn::kTrace, 1, 2, kL1, false},
    {"now", Fn::kNow, 0, 0, 0, false},
    {"today", Fn::kToday, 0, 0, 0, false},
    {"timeOfDay", Fn::kTimeOfDay, 0, 0, 0, false},
    {"aggregate", Fn::kAggregate, 1, 2, kL0, false},
    {"sort", Fn::kSort, 0, -1, kAll, false},
    {"is", Fn::kIs, 1, 1, 0, true},
    {"as", Fn::kAs, 1, 1, 0, true},
    {"type", Fn::kType, 0, 0, 0, false},
    {"not", Fn::kNot, 0, 0, 0, false},
    {"extension", Fn::kExtension, 1, 1, 0, false},
    {"hasValue", Fn::kHasValue, 0, 0, 0, false},
    {"getValue", Fn::kGetValue, 0, 0, 0, false},
    {"resolve", Fn::kResolve, 0, 0, 0, false},
    {"memberOf", Fn::kMemberOf, 1, 1, 0, false},
    {"conformsTo", Fn::kConformsTo, 1, 1, 0, false},
    {"htmlChecks", Fn::kHtmlChecks, 0, 0, 0, false},
    {"htmlChecks2", Fn::kHtmlChecks, 0, 0, 0, false},
    {"lowBoundary", Fn::kLowBoundary, 0, 1, 0, false},
    {"highBoundary", Fn::kHighBoundary, 0, 1, 0, false},
    {"precision", Fn::kPrecision, 0, 0, 0, false},
    {"comparable", Fn::kComparable, 1, 1, 0, false},
};

}  // namespace

const FunctionInfo* FindFunction(std::string_view name) {
  for (const FunctionInfo& f : kFunctions) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

}  // namespace crs::fhirpath
