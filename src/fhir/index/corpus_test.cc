// Every official R4 example (and every resource inside the example Bundles) and
// every resource of the 20 Synthea bundles extracts without error; reports rows per
// resource type, warnings, and values that no row type holds.
#include <dirent.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "fhir/index/extract.h"
#include "fhir/index/test_support.h"

namespace crs::fhir::index {
namespace {

namespace json = boost::json;

std::vector<std::string> JsonFiles(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* ent = readdir(d)) {
      std::string n = ent->d_name;
      if (n.size() > 5 && n.ends_with(".json")) names.push_back(dir + "/" + n);
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

struct TypeTally {
  size_t resources = 0;
  size_t rows = 0;
  size_t warnings = 0;
};

class CorpusTally {
 public:
  // Extracts `resource`, failing the test on an error; `where` names it in messages.
  void Add(const json::value& resource, const std::string& where) {
    Result<IndexEntries> r = ExtractIndex(resource, &stats_);
    ASSERT_TRUE(r.ok()) << where << ": " << r.status().ToString();
    TypeTally& t = by_type_[std::string(r->resource_type)];
    ++t.resources;
    t.rows += r->RowCount();
    t.warnings += r->warnings.size();
    for (const IndexWarning& w : r->warnings) {
      warnings_.push_back(where + " " + std::string(w.param) + ": " + w.message);
    }
  }

  void Report(const char* label) const {
    size_t resources = 0, rows = 0;
    std::cout << label << ": rows per resource type\n";
    for (const auto& [type, t] : by_type_) {
      resources += t.resources;
      rows += t.rows;
      std::cout << "  " << std::left << std::setw(28) << type << std::right << std::setw(6)
                << t.resources << " resources " << std::setw(8) << t.rows << " rows " << std::fixed
                << std::setprecision(1) << std::setw(7)
                << static_cast<double>(t.rows) / static_cast<double>(t.resources)
                << " per resource, " << t.warnings << " warnings\n";
    }
    std::cout << "  total: " << resources << " resources, " << rows << " rows, "
              << stats_.evaluations << " evaluations, " << warnings_.size() << " warnings\n";
    for (const std::string& w : warnings_) std::cout << "  warning: " << w << "\n";
    for (const auto& [kind, n] : stats_.unindexed) {
      std::cout << "  not indexable: " << kind << " x" << n << "\n";
    }
  }

  size_t resources() const { return stats_.resources; }
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  ExtractStats stats_;
  std::map<std::string, TypeTally> by_type_;
  std::vector<std::string> warnings_;
};

TEST(CorpusTest, EveryOfficialExampleExtracts) {
  CRS_REQUIRE_SHARED_DATA();
  CorpusTally tally;
  for (const std::string& path : JsonFiles(testing::SharedPath("fhir-r4-examples"))) {
    json::value v = testing::ReadJson(path);
    std::string name = path.substr(path.rfind('/') + 1);
    tally.Add(v, name);
    const json::value* entries = v.as_object().if_contains("entry");
    if (entries == nullptr || !entries->is_array()) continue;
    for (size_t i = 0; i < entries->get_array().size(); ++i) {
      const json::value& e = entries->get_array()[i];
      if (const json::value* r = e.as_object().if_contains("resource")) {
        tally.Add(*r, name + "#entry" + std::to_string(i));
      }
    }
  }
  tally.Report("official examples");
  EXPECT_GE(tally.resources(), 89u);
  EXPECT_TRUE(tally.warnings().empty());
}

TEST(CorpusTest, EverySyntheaResourceExtracts) {
  CRS_REQUIRE_SHARED_DATA();
  std::vector<std::string> files =
      JsonFiles(testing::SharedPath("synthea/smart-generated-sample-data-R4"));
  ASSERT_EQ(files.size(), 20u);
  CorpusTally tally;
  for (const std::string& path : files) {
    json::value bundle = testing::ReadJson(path);
    std::string name = path.substr(path.rfind('/') + 1);
    size_t i = 0;
    for (const json::value& e : bundle.at("entry").as_array()) {
      tally.Add(e.at("resource"), name + "#entry" + std::to_string(i++));
    }
  }
  tally.Report("synthea");
  EXPECT_GT(tally.resources(), 1000u);
  EXPECT_TRUE(tally.warnings().empty());
}

}  // namespace
}  // namespace crs::fhir::index
