// `crs copy`: a node that ran on SQLite moves into PostgreSQL -- every
// resource and version, and an audit log that `crs audit verify` passes.
// Runs in the /postgres variant of the suite (it needs the test server).

#include <boost/json.hpp>
#include <map>
#include <regex>
#include <sstream>

#include "e2e/fixture.h"

namespace crs::e2e {
namespace {

namespace json = boost::json;

// The "records checked: N" figure of `crs audit verify` output.
std::string RecordsChecked(const std::string& out) {
  std::smatch m;
  return std::regex_search(out, m, std::regex("records checked: +([0-9]+)")) ? m[1].str() : "";
}

TEST(CopyTest, SqliteNodeMovesIntoPostgresWithItsAuditChain) {
  if (!OnPostgres()) GTEST_SKIP() << "runs in the /postgres variant (needs the test server)";
  ServerProcess server;  // its PostgreSQL database is the destination
  ASSERT_FALSE(server.store_url().empty());
  std::string dir = server.data_dir() + "/data";
  std::string file = server.data_dir() + "/population.ndjson";
  std::string out;
  ASSERT_EQ(RunCrs({"gen", "--patients", "60", "--records", "--summaries", "--seed", "7", "--out",
                    file}, &out),
            0)
      << out;
  std::map<std::string, int> types;
  {
    std::istringstream lines(ReadFile(file));
    std::string line;
    while (std::getline(lines, line)) {
      ++types[std::string(json::parse(line).at("resourceType").as_string())];
    }
  }
  int lines = 0;
  for (const auto& [type, n] : types) lines += n;
  // Each summary document is kept as Bundle/scr-<nhs> with a Provenance.
  types["Provenance"] = types["Bundle"];
  ASSERT_GT(types["Bundle"], 50);
  int stored = lines + types["Bundle"];
  // The node as it ran on SQLite.
  ASSERT_EQ(RunCrs({"import", "--data", dir, "--store", "sqlite:", file}, &out), 0) << out;
  ASSERT_EQ(RunCrs({"audit", "verify", "--data", dir, "--store", "sqlite:"}, &out), 0) << out;
  std::string sqlite_records = RecordsChecked(out);
  ASSERT_NE(sqlite_records, "");

  ASSERT_EQ(RunCrs({"copy", "--data", dir, "--to", server.store_url()}, &out), 0) << out;
  EXPECT_NE(out.find("audit_checkpoint"), std::string::npos) << out;
  EXPECT_EQ(StoreScalar(dir, "SELECT count(*) FROM versions"), stored);
  ASSERT_EQ(RunCrs({"audit", "verify", "--data", dir, "--store", server.store_url()}, &out), 0)
      << out;
  EXPECT_EQ(RecordsChecked(out), sqlite_records) << out;
  // A second copy into the same database is refused and changes nothing.
  EXPECT_EQ(RunCrs({"copy", "--data", dir, "--to", server.store_url()}, &out), 1) << out;
  EXPECT_NE(out.find("already holds data"), std::string::npos) << out;

  ASSERT_TRUE(server.Start());  // on PostgreSQL, with the node's keys
  Client client(server.port(), server.SystemToken());
  for (const auto& [type, n] : types) {
    auto r = client.Send("GET", "/fhir/" + type + "?_summary=count");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Json().at("total").as_int64(), n) << type;
  }
  // And it carries on: a new version lands after the copied one, and the
  // chain still verifies.
  auto patient = client.Send("GET", "/fhir/Patient/9990000018");
  ASSERT_EQ(patient.status, 200) << patient.body;
  auto updated = client.Send("PUT", "/fhir/Patient/9990000018", patient.body,
                             {{"If-Match", "W/\"1\""}});
  EXPECT_EQ(updated.status, 200) << updated.body;
  auto history = client.Send("GET", "/fhir/Patient/9990000018/_history");
  ASSERT_EQ(history.status, 200) << history.body;
  json::value bundle = history.Json();
  auto entries = bundle.as_object().if_contains("entry");
  ASSERT_NE(entries, nullptr) << history.body;
  EXPECT_EQ(entries->as_array().size(), 2u) << history.body;
  ASSERT_EQ(server.Stop(SIGTERM), 0);
  EXPECT_EQ(RunCrs({"audit", "verify", "--data", dir}, &out), 0) << out;
}

}  // namespace
}  // namespace crs::e2e
