// Sensitive SNOMED CT codes: items coded with one of them (sexual health,
// IVF, terminations, gender reassignment...) are excluded from the national
// Summary Care Record automatically and never stored (docs/summary.md).
//
// Thread safety: immutable once built; share freely.
#pragma once

#include <boost/json/value.hpp>
#include <set>
#include <string>
#include <string_view>

#include "core/status.h"

namespace crs::access {

inline constexpr std::string_view kSnomedSystem = "http://snomed.info/sct";

class SensitiveCodes {
 public:
  SensitiveCodes() = default;
  // The list shipped with OpenCRS (src/access/data/sensitive_codes.txt).
  static SensitiveCodes Default();
  // One code per line, '#' starts a comment. Invalid when a line is not a
  // SNOMED CT concept id (6 to 18 digits).
  static Result<SensitiveCodes> Parse(std::string_view text);
  static Result<SensitiveCodes> Load(const std::string& path);

  bool Contains(std::string_view code) const { return codes_.count(std::string(code)) > 0; }
  size_t size() const { return codes_.size(); }
  // Whether any Coding anywhere in `resource` (system SNOMED CT, or no
  // system) carries a sensitive code.
  bool Mentions(const boost::json::value& resource) const;

 private:
  std::set<std::string, std::less<>> codes_;
};

}  // namespace crs::access
