#include "access/sensitive.h"

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

extern "C" const char crs_sensitive_codes_txt[];
extern "C" const unsigned long crs_sensitive_codes_txt_size;

namespace crs::access {

namespace json = boost::json;

SensitiveCodes SensitiveCodes::Default() {
  auto parsed = Parse(std::string_view(crs_sensitive_codes_txt, crs_sensitive_codes_txt_size));
  return parsed.ok() ? std::move(*parsed) : SensitiveCodes();  // the shipped file is valid
}

Result<SensitiveCodes> SensitiveCodes::Parse(std::string_view text) {
  SensitiveCodes out;
  int line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    line = line.substr(0, line.find('#'));
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) {
      line.remove_suffix(1);
    }
    if (line.empty()) continue;
    bool digits = line.size() >= 6 && line.size() <= 18 &&
                  line.find_first_not_of("0123456789") == std::string_view::npos;
    if (!digits) {
      return Status::Invalid("sensitive codes, line " + std::to_string(line_no) +
                             ": not a SNOMED CT concept id");
    }
    out.codes_.insert(std::string(line));
  }
  return out;
}

Result<SensitiveCodes> SensitiveCodes::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Invalid("cannot read sensitive codes file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return Parse(ss.str());
}

bool SensitiveCodes::Mentions(const json::value& v) const {
  if (codes_.empty()) return false;
  if (const json::object* o = v.if_object()) {
    const json::value* code = o->if_contains("code");
    if (code && code->is_string() && Contains(code->get_string())) {
      const json::value* system = o->if_contains("system");
      if (!system || (system->is_string() && system->get_string() == kSnomedSystem)) return true;
    }
    for (const auto& [k, child] : *o) {
      if (Mentions(child)) return true;
    }
  } else if (const json::array* a = v.if_array()) {
    for (const auto& child : *a) {
      if (Mentions(child)) return true;
    }
  }
  return false;
}

}  // namespace crs::access
