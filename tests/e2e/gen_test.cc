// `crs gen`: every generated resource is accepted by a real server (so it is
// valid FHIR R4 as the server's validator sees it), and the command is
// deterministic and documented.
#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "e2e/fixture.h"

namespace crs::e2e {
namespace {

TEST(GenCliTest, HelpAndUsageErrors) {
  std::string out;
  EXPECT_EQ(RunCrs({"gen", "--help"}, &out), 0);
  for (const char* flag : {"--patients", "--seed", "--summaries", "--records", "--out"}) {
    EXPECT_NE(out.find(flag), std::string::npos) << flag;
  }
  EXPECT_EQ(RunCrs({"gen"}, &out), 2);
  EXPECT_EQ(RunCrs({"gen", "--patients", "0"}, &out), 2);
  EXPECT_EQ(RunCrs({"gen", "--patients", "10", "--out", "/nonexistent/dir/x.ndjson"}, &out), 1);
}

TEST(GenCliTest, SameSeedSameFile) {
  ServerProcess scratch;  // only for its temporary directory
  std::string a = scratch.data_dir() + "/a.ndjson", b = scratch.data_dir() + "/b.ndjson";
  std::string out;
  ASSERT_EQ(RunCrs({"gen", "--patients", "500", "--seed", "3", "--summaries", "--records", "--out",
                    a}, &out), 0)
      << out;
  ASSERT_EQ(RunCrs({"gen", "--patients", "500", "--seed", "3", "--summaries", "--records", "--out",
                    b}, &out), 0)
      << out;
  std::string first = ReadFile(a);
  EXPECT_FALSE(first.empty());
  EXPECT_EQ(first, ReadFile(b));
  ASSERT_EQ(RunCrs({"gen", "--patients", "500", "--seed", "3", "--summaries", "--records"}, &out), 0);
  EXPECT_EQ(out, first) << "stdout and --out carry the same bytes";
}

class GenServerTest : public ServerTest {};

// Every resource is stored by a PUT of it, and every summary document is
// accepted by the Summary Care Record upload (POST /fhir/Bundle).
TEST_F(GenServerTest, EveryGeneratedResourceIsAccepted) {
  std::string file = server_.data_dir() + "/population.ndjson";
  std::string out;
  ASSERT_EQ(RunCrs({"gen", "--patients", "700", "--summaries", "--records", "--observations", "2",
                    "--seed", "7", "--out", file}, &out),
            0)
      << out;
  std::istringstream lines(ReadFile(file));
  std::string line;
  int count = 0;
  std::map<std::string, int> types;
  std::string with_summary, dissented;
  int dissents = 0;
  while (std::getline(lines, line)) {
    auto v = boost::json::parse(line).as_object();
    std::string type(v.at("resourceType").as_string());
    std::string id(v.at("id").as_string());
    if (type == "Bundle") {
      auto r = Post("/fhir/Bundle", line);
      EXPECT_EQ(r.status, 201) << id << " -> " << r.body;
      if (with_summary.empty()) with_summary = id.substr(0, 10);
    } else {
      auto r = Put("/fhir/" + type + "/" + id, line);
      EXPECT_TRUE(r.status == 200 || r.status == 201)
          << type << "/" << id << " -> " << r.status << " " << r.body << "\n" << line;
      if (type == "Consent" && line.find("\"deny\"") != std::string::npos) {
        ++dissents;
        if (dissented.empty()) dissented = id.substr(0, 10);
      }
    }
    ++types[type];
    ++count;
  }
  EXPECT_EQ(types["Patient"], 700);
  EXPECT_GT(types["Organization"], 0);
  EXPECT_GT(types["Condition"], 0);
  EXPECT_GT(types["MedicationStatement"], 0);
  EXPECT_GT(types["AllergyIntolerance"], 0);
  EXPECT_GT(types["Consent"], 0);
  EXPECT_EQ(types["Observation"], 1400);
  // The vital signs answer searches on their values and components.
  auto bp = Get("/fhir/Observation?component-code-value-quantity=http://loinc.org|8480-6$gt90"
                "&_summary=count");
  EXPECT_GT(bp.Json().at("total").as_int64(), 50) << bp.body;
  auto weights = Get("/fhir/Observation?code-value-quantity=http://loinc.org|29463-7$gt1|"
                     "http://unitsofmeasure.org|kg&date=ge2019&_summary=count");
  EXPECT_GT(weights.Json().at("total").as_int64(), 50) << weights.body;
  EXPECT_EQ(types["Bundle"] + dissents, 700) << "a summary for each patient who did not dissent";
  EXPECT_GT(types["Bundle"], 650) << "a summary for nearly everyone";
  EXPECT_GT(count, 3400) << "a sample of about 4,400 resources";
  ASSERT_FALSE(with_summary.empty());
  auto summary = Get("/fhir/Patient/" + with_summary + "/$summary");
  EXPECT_EQ(summary.status, 200) << summary.body;
  if (!dissented.empty()) {
    EXPECT_EQ(Get("/fhir/Patient/" + dissented + "/$summary").status, 403) << dissented;
  }
  auto read = Get("/fhir/Patient/9990000018");
  EXPECT_EQ(read.status, 200);
}

}  // namespace
}  // namespace crs::e2e
