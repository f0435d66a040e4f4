// Helpers shared by the crs_fhir_index tests (header-only): the shared FHIR data
// (tests GTEST_SKIP when it is absent) and row printing for failure messages.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>
#include <string>

#include "fhir/index/index_entries.h"

namespace crs::fhir::index::testing {

inline std::string SharedPath(const std::string& relative) {
  return std::string(CRS_SHARED_DIR) + "/" + relative;
}

inline bool SharedDataPresent() {
  struct stat st;
  return stat(SharedPath("fhir-r4-examples").c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

#define CRS_REQUIRE_SHARED_DATA()                                      \
  do {                                                                 \
    if (!::crs::fhir::index::testing::SharedDataPresent()) {           \
      GTEST_SKIP() << "shared FHIR data not found at " CRS_SHARED_DIR; \
    }                                                                  \
  } while (0)

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

inline boost::json::value ReadExample(const std::string& name) {
  return ReadJson(SharedPath("fhir-r4-examples/" + name));
}

}  // namespace crs::fhir::index::testing
