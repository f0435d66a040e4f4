// Appending JSON text to a string, for the generator's hot path (building a
// boost::json::value per resource would halve the rate).
//
// Thread safety: free functions over the caller's string.
#pragma once

#include <string>
#include <string_view>

namespace crs::gen {

// Appends `s` as a JSON string literal (quotes included). Input is UTF-8;
// only the characters JSON requires are escaped.
inline void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out += kHex[(c >> 4) & 0xF];
          out += kHex[c & 0xF];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// Appends `"key":` (the key must need no escaping).
inline void AppendKey(std::string& out, std::string_view key) {
  out += '"';
  out += key;
  out += "\":";
}

// Appends `"key":"value"` with the value escaped.
inline void AppendField(std::string& out, std::string_view key, std::string_view value) {
  AppendKey(out, key);
  AppendJsonString(out, value);
}

}  // namespace crs::gen
