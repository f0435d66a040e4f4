// Helpers shared by the crs_fhirpath tests (header-only, so it stays out of the
// library): reading the shared FHIR data, and a TypeProvider built from the official
// StructureDefinitions, loaded once per test binary.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "fhir/fhirpath/sd_type_provider.h"

namespace crs::fhirpath::testing {

inline std::string SharedPath(const std::string& relative) {
  return std::string(CRS_SHARED_DIR) + "/" + relative;
}

// The file's bytes; empty when unreadable (tests then fail on the missing data).
inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline boost::json::value ReadJson(const std::string& path) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(ReadFile(path), ec);
  if (ec) ADD_FAILURE() << "cannot parse " << path << ": " << ec.message();
  return v;
}

// profiles-types.json + profiles-resources.json, parsed on first use.
inline const StructureDefinitionTypeProvider& R4Types() {
  static const StructureDefinitionTypeProvider* provider = [] {
    auto* p = new StructureDefinitionTypeProvider();
    for (const char* file : {"fhir-r4/profiles-types.json", "fhir-r4/profiles-resources.json"}) {
      Status s = p->Add(ReadJson(SharedPath(file)));
      if (!s.ok()) ADD_FAILURE() << s.ToString();
    }
    return p;
  }();
  return *provider;
}

}  // namespace crs::fhirpath::testing
