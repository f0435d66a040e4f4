// Base64 (RFC 4648, standard alphabet) decoding, for FHIR base64Binary.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace crs {

// Decodes `in`, ignoring ASCII whitespace; nullopt when malformed.
std::optional<std::string> Base64Decode(std::string_view in);

}  // namespace crs
