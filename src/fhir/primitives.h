// The FHIR R4 primitive datatypes and hand-written checks of their lexical forms.
//
// Each Is*() function accepts exactly the strings the R4 regex for the type accepts
// (see Model::PrimitiveRegex), plus the calendar rules the regexes cannot express
// (2023-02-30 is not a date). "Whitespace" in the regexes (\s, \S) is read as Java
// reads it, the reference validator's language: [ \t\n\x0B\f\r].
// Hand-written because they run on every primitive of every write: no regex engine,
// no allocation.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace crs::fhir {

enum class PrimitiveType : uint8_t {
  kBase64Binary,
  kBoolean,
  kCanonical,
  kCode,
  kDate,
  kDateTime,
  kDecimal,
  kId,
  kInstant,
  kInteger,
  kMarkdown,
  kOid,
  kPositiveInt,
  kString,
  kTime,
  kUnsignedInt,
  kUri,
  kUrl,
  kUuid,
  kXhtml,
};

// "date" -> kDate; nullopt for anything that is not an R4 primitive type name.
std::optional<PrimitiveType> PrimitiveTypeFromName(std::string_view name);
// kDate -> "date".
std::string_view PrimitiveTypeName(PrimitiveType type);

// How the type's value is written in JSON.
enum class JsonForm { kBoolean, kInteger, kDecimal, kString };
JsonForm JsonFormOf(PrimitiveType type);

// FHIR strings SHALL NOT exceed 1 MiB; applied to every string-form primitive except
// base64Binary and xhtml (whose size is the attachment's / narrative's).
inline constexpr size_t kMaxStringBytes = 1024 * 1024;

bool IsValidDate(std::string_view s);      // YYYY, YYYY-MM, YYYY-MM-DD
bool IsValidDateTime(std::string_view s);  // a date, or a full date with time and zone
bool IsValidInstant(std::string_view s);   // full date, time and zone
bool IsValidTime(std::string_view s);      // hh:mm:ss(.fff)
bool IsValidId(std::string_view s);        // [A-Za-z0-9\-\.]{1,64}
bool IsValidCode(std::string_view s);      // tokens separated by single whitespace
bool IsValidUri(std::string_view s);       // no whitespace (uri, url, canonical)
bool IsValidOid(std::string_view s);       // urn:oid:1.2.3
bool IsValidUuid(std::string_view s);      // urn:uuid: + lower-case 8-4-4-4-12 hex
bool IsValidBase64(std::string_view s);    // groups of 4 base64 characters, whitespace between
bool IsValidString(std::string_view s);    // non-empty, no vertical tab or form feed

// The byte offset of the first character FHIR forbids in every string-form
// value (R4 "string": code points below U+0020 other than tab, carriage
// return and line feed), or npos when there is none.
size_t FindForbiddenControl(std::string_view s);

// True when `s` is a valid lexical form for a string-form `type` (the Is*() above;
// string and markdown use IsValidString, xhtml only needs to be non-empty). Types whose
// JSON form is not a string return false.
bool IsValidStringForm(PrimitiveType type, std::string_view s);

// True when a JSON integer `v` is in range for integer / positiveInt / unsignedInt
// (32-bit signed, >= 1, >= 0 respectively).
bool IsInIntegerRange(PrimitiveType type, int64_t v);

}  // namespace crs::fhir
