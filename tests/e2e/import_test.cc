// `crs import`: bulk loading into a stopped node -- generated populations,
// Bundles, bad lines, interruption and resume, and the running-node guard --
// and into a running one through its API (--server).

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <map>
#include <regex>
#include <sstream>

#include "e2e/fixture.h"

namespace crs::e2e {
namespace {

namespace json = boost::json;

// Resources per type in an NDJSON file.
std::map<std::string, int> TypesIn(const std::string& path) {
  std::map<std::string, int> types;
  std::istringstream lines(ReadFile(path));
  std::string line;
  while (std::getline(lines, line)) {
    ++types[std::string(json::parse(line).at("resourceType").as_string())];
  }
  return types;
}

int64_t Scalar(const std::string& data_dir, const std::string& sql) {
  return StoreScalar(data_dir, sql);
}

int Total(Client& client, const std::string& target) {
  auto r = client.Send("GET", target);
  if (r.status != 200) return -1;
  return static_cast<int>(r.Json().at("total").as_int64());
}

int CountAudit(const std::string& data_dir, const std::string& needle) {
  int n = 0;
  for (const auto& record : AuditRecords(data_dir)) n += record.find(needle) != std::string::npos;
  return n;
}

TEST(ImportCliTest, HelpNamesFlagsAndExitCodes) {
  std::string out;
  EXPECT_EQ(RunCrs({"import", "--help"}, &out), 0);
  for (const char* flag : {"--data", "--org", "--report", "--batch-size", "--restart", "PATH"}) {
    EXPECT_NE(out.find(flag), std::string::npos) << flag;
  }
  EXPECT_NE(out.find("1 some lines rejected"), std::string::npos) << out;
  EXPECT_EQ(out.find("--stop-after"), std::string::npos) << "a hidden test flag";
  EXPECT_EQ(RunCrs({"import"}, &out), 2);
  EXPECT_EQ(RunCrs({"import", "--data", "/tmp", "/nonexistent/file.ndjson"}, &out), 2);
}

TEST(ImportTest, GeneratedPopulationLoadsAndServes) {
  ServerProcess server;
  std::string dir = server.data_dir() + "/data";  // the node's, as Start() runs it
  std::string file = server.data_dir() + "/population.ndjson";
  std::string out;
  ASSERT_EQ(RunCrs({"gen", "--patients", "500", "--records", "--seed", "5", "--out", file}, &out),
            0)
      << out;
  auto types = TypesIn(file);
  int lines = 0;
  for (const auto& [type, n] : types) lines += n;
  ASSERT_EQ(RunCrs({"import", "--data", dir, "--org", "X26", "--batch-size", "700", file}, &out), 0)
      << out;
  EXPECT_NE(out.find("imported " + std::to_string(lines / 1000) + ","), std::string::npos) << out;
  EXPECT_NE(out.find("(500 patients)"), std::string::npos) << out;

  ASSERT_TRUE(server.Start());
  Client client(server.port(), server.SystemToken());
  for (const auto& [type, n] : types) {
    EXPECT_EQ(Total(client, "/fhir/" + type + "?_summary=count"), n) << type;
  }
  auto patient = client.Send("GET", "/fhir/Patient/9990000018");
  ASSERT_EQ(patient.status, 200) << patient.body;
  EXPECT_EQ(patient.Json().at("meta").at("versionId"), "1");
  // Indexed: a summary item is found through its patient.
  auto conditions = client.Send("GET", "/fhir/AllergyIntolerance?patient=Patient/9990000018");
  EXPECT_EQ(conditions.status, 200);
  // Access facts: the importing organisation authored everything.
  EXPECT_EQ(Scalar(dir, "SELECT count(*) FROM resources WHERE author_org <> 'X26'"), 0);
  EXPECT_EQ(Scalar(dir, "SELECT count(*) FROM resources WHERE patient = '?'"), 0);
  ASSERT_EQ(server.Stop(SIGTERM), 0);

  // One audit record per batch, naming what it wrote; the chain verifies.
  int batches = (lines + 699) / 700;
  EXPECT_EQ(CountAudit(dir, "\"action\":\"import\""), batches);
  EXPECT_EQ(CountAudit(dir, "\"user\":\"crs-import\""), batches);
  EXPECT_EQ(CountAudit(dir, "\"org\":\"X26\""), batches);
  EXPECT_EQ(CountAudit(dir, "\"Patient/9990000018/_history/1\""), 1);
  EXPECT_EQ(RunCrs({"audit", "verify", "--data", dir}, &out), 0) << out;
  EXPECT_NE(out.find("audit log intact"), std::string::npos) << out;

  // Importing the same file again writes nothing new.
  ASSERT_EQ(RunCrs({"import", "--data", dir, "--restart", file}, &out), 0) << out;
  EXPECT_NE(out.find("imported 0 resources"), std::string::npos) << out;
  EXPECT_EQ(Scalar(dir, "SELECT count(*) FROM versions"), lines);
}

// `crs import --trace-keys` writes the Patients' trace keys (docs/trace.md)
// into a node that keeps them; an import without the flag marks them
// incomplete, since its Patients get none.
TEST(ImportTest, TraceKeysWithTheFlagOnly) {
  ServerProcess server;
  std::string dir = server.data_dir() + "/data";
  std::string file = server.data_dir() + "/population.ndjson";
  std::string more = server.data_dir() + "/more.ndjson";
  std::string out;
  ASSERT_EQ(RunCrs({"gen", "--patients", "300", "--seed", "8", "--out", file}, &out), 0) << out;
  const std::string kFlag = "SELECT value FROM schema_meta WHERE key = 'trace_keys'";
  const std::string kKeyRows =
      "SELECT count(*) FROM ix_string WHERE pid IN "
      "(SELECT pid FROM sp WHERE substr(code, 1, 7) = '_trace-')";
  ASSERT_EQ(RunCrs({"import", "--data", dir, "--trace-keys", file}, &out), 0) << out;
  EXPECT_EQ(Scalar(dir, kFlag), 1);
  EXPECT_GE(Scalar(dir, kKeyRows), 300 * 3);  // a family, sounds and a postcode each

  ASSERT_TRUE(server.Start({"--trace-keys"}));
  Client client(server.port(), server.SystemToken());
  json::object first;
  {
    std::istringstream lines(ReadFile(file));
    std::string line;
    while (first.empty() && std::getline(lines, line)) {
      auto v = json::parse(line).as_object();
      if (v.at("resourceType") == "Patient") first = v;
    }
  }
  ASSERT_FALSE(first.empty());
  std::string family(first.at("name").at(0).at("family").as_string());
  std::string birth(first.at("birthDate").as_string());
  std::string escaped;
  for (char c : family) escaped += c == ' ' ? std::string("%20") : c == '\'' ? "%27" : std::string(1, c);
  auto trace = client.Send("GET", "/fhir/Patient?family=" + escaped + "&birthdate=" + birth +
                                      "&_max-results=50");
  ASSERT_EQ(trace.status, 200) << trace.body;
  EXPECT_NE(trace.body.find("\"id\":\"" + std::string(first.at("id").as_string()) + "\""),
            std::string::npos)
      << trace.body.substr(0, 300);
  ASSERT_EQ(server.Stop(SIGTERM), 0);

  ASSERT_EQ(RunCrs({"gen", "--patients", "310", "--seed", "8", "--out", more}, &out), 0) << out;
  ASSERT_EQ(RunCrs({"import", "--data", dir, more}, &out), 0) << out;
  EXPECT_EQ(Scalar(dir, kFlag), 0);
}

// `crs gen --summaries` documents load as uploads do: Bundle/scr-<nhs> and
// its Provenance, consent applied from the Consents earlier in the same
// input (even in the same, uncommitted batch), additional information only
// with the explicit permit; a re-import writes nothing.
TEST(ImportTest, SummaryDocumentsAreKeptAsTheUploadKeepsThem) {
  ServerProcess server;
  std::string dir = server.data_dir() + "/data";
  std::string file = server.data_dir() + "/population.ndjson";
  std::string out;
  ASSERT_EQ(RunCrs({"gen", "--patients", "400", "--summaries", "--seed", "9", "--out", file}, &out),
            0)
      << out;
  // What the input says, per patient.
  std::set<std::string> documents, dissented, additional, with_problems;
  {
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
      auto v = boost::json::parse(line).as_object();
      std::string type(v.at("resourceType").as_string());
      std::string id(v.at("id").as_string());
      if (type == "Bundle") {
        documents.insert(id.substr(0, 10));
        if (line.find("\"ProblemsHeader\"") != std::string::npos) with_problems.insert(id.substr(0, 10));
      }
      if (type == "Consent") {
        (line.find("\"deny\"") != std::string::npos ? dissented : additional).insert(id.substr(0, 10));
      }
    }
  }
  ASSERT_GT(documents.size(), 350u);
  ASSERT_FALSE(dissented.empty());
  std::string kept_problems, dropped_problems;
  for (const auto& nhs : with_problems) {
    if (additional.count(nhs) && kept_problems.empty()) kept_problems = nhs;
    if (!additional.count(nhs) && dropped_problems.empty()) dropped_problems = nhs;
  }
  ASSERT_FALSE(kept_problems.empty());
  ASSERT_FALSE(dropped_problems.empty());

  // One batch for everything: the documents depend on Patients and Consents
  // that are not committed yet when they are prepared.
  ASSERT_EQ(RunCrs({"import", "--data", dir, "--org", "X26", "--batch-size", "5000", file}, &out), 0)
      << out;
  int n = static_cast<int>(documents.size());
  EXPECT_EQ(Scalar(dir, "SELECT count(*) FROM resources WHERE type = 'Bundle' AND id LIKE 'scr-%'"), n);
  EXPECT_EQ(Scalar(dir, "SELECT count(*) FROM resources WHERE type = 'Provenance' AND id LIKE 'scr-%'"),
            n);
  EXPECT_EQ(Scalar(dir, "SELECT count(*) FROM resources WHERE type = 'Bundle' AND id NOT LIKE 'scr-%'"),
            0)
      << "a summary document is not also stored as itself";

  ASSERT_TRUE(server.Start());
  Client client(server.port(), server.SystemToken());
  auto doc = client.Send("GET", "/fhir/Patient/" + *documents.begin() + "/$summary");
  ASSERT_EQ(doc.status, 200) << doc.body;
  auto comp = doc.Json().at("entry").at(0).at("resource");
  EXPECT_NE(std::string(comp.at("text").at("div").as_string()).find("Summary Care Record"),
            std::string::npos);
  auto prov = client.Send("GET", "/fhir/Provenance/scr-" + *documents.begin());
  ASSERT_EQ(prov.status, 200);
  EXPECT_NE(prov.body.find("\"X26\""), std::string::npos) << "the importing organisation is the author";
  // Dissent: nothing held, and the answer says why.
  for (const auto& nhs : dissented) {
    EXPECT_EQ(documents.count(nhs), 0u) << nhs;
    EXPECT_EQ(client.Send("GET", "/fhir/Patient/" + nhs + "/$summary").status, 403) << nhs;
  }
  // Problems are additional information: kept only with the permit.
  auto kept = client.Send("GET", "/fhir/Patient/" + kept_problems + "/$summary");
  EXPECT_NE(kept.body.find("\"Condition\""), std::string::npos) << kept_problems;
  auto dropped = client.Send("GET", "/fhir/Patient/" + dropped_problems + "/$summary");
  ASSERT_EQ(dropped.status, 200);
  EXPECT_EQ(dropped.body.find("\"Condition\""), std::string::npos) << dropped_problems;
  ASSERT_EQ(server.Stop(SIGTERM), 0);

  ASSERT_EQ(RunCrs({"import", "--data", dir, "--restart", file}, &out), 0) << out;
  EXPECT_NE(out.find("imported 0 resources"), std::string::npos) << out;
  EXPECT_EQ(Scalar(dir, "SELECT max(version) FROM resources"), 1);
  EXPECT_EQ(RunCrs({"audit", "verify", "--data", dir}, &out), 0) << out;
}

TEST(ImportTest, BadLinesAreReportedAndGoodOnesLoaded) {
  ServerProcess server;
  std::string dir = server.data_dir() + "/data";
  std::filesystem::create_directories(dir + "/in/sub");
  {
    std::ofstream f(dir + "/in/a.ndjson");
    f << R"({"resourceType":"Patient","id":"9990000018","gender":"female"})"
         "\n"  // 1 ok
      << R"({"resourceType":"Patient","id":"9990000018" this is not JSON)"
         "\n"  // 2
      << R"({"resourceType":"Patient","id":"1234567890","gender":"male"})"
         "\n"  // 3 NHS no.
      << "\n"  // 4 blank
      << R"({"resourceType":"Patient","id":"9990000026","birthDate":"yesterday"})"
         "\n"  // 5 invalid
      << R"({"resourceType":"Organization","name":"no id"})"
         "\n"  // 6 no id
      << R"({"resourceType":"Spaceship","id":"x"})"
         "\n"  // 7 type
      << R"({"resourceType":"Organization","id":"Y12345","name":"Surgery"})"
         "\n"                                                          // 8 ok
      << R"({"resourceType":"Bundle","type":"transaction","entry":[)"  // 9
      << R"({"resource":{"resourceType":"Patient","id":"9990000034"},"request":{"method":"PUT","url":"Patient/9990000034"}},)"
      << R"({"request":{"method":"DELETE","url":"Patient/9990000018"}},)"
      << R"({"resource":{"resourceType":"Patient","gender":"male"},"request":{"method":"PUT","url":"Patient/9990000042"}}]})"
         "\n";
  }
  {
    std::ofstream f(dir + "/in/sub/b.json");
    f << R"({"resourceType": "Bundle", "type": "collection", "entry": [
          {"resource": {"resourceType": "Organization", "id": "Y23456", "name": "Practice"}},
          {"resource": {"resourceType": "Observation", "id": "bad", "status": "nonsense"}}]})";
  }
  std::string report = dir + "/report.txt";
  std::string out;
  EXPECT_EQ(RunCrs({"import", "--data", dir, "--report", report, dir + "/in"}, &out), 1) << out;
  std::string text = ReadFile(report);
  for (const char* where :
       {"a.ndjson:2: ", "a.ndjson:3: INVALID_RESOURCE_ID", "a.ndjson:5: ", "a.ndjson:6: ",
        "a.ndjson:7: ", "a.ndjson:9: entry 2: ", "b.json: entry 2: "}) {
    EXPECT_NE(text.find(where), std::string::npos) << where << " in\n" << text;
    EXPECT_NE(out.find(where), std::string::npos) << where << " on stderr:\n" << out;
  }
  for (const char* good :
       {"a.ndjson:1:", "a.ndjson:4:", "a.ndjson:8:", "a.ndjson:9: entry 1", "a.ndjson:9: entry 3",
        "b.json: entry 1"}) {
    EXPECT_EQ(text.find(good), std::string::npos) << good << " in\n" << text;
  }
  EXPECT_NE(out.find("7 rejected"), std::string::npos) << out;

  ASSERT_TRUE(server.Start());
  Client client(server.port(), server.SystemToken());
  for (const char* id : {"Patient/9990000018", "Patient/9990000034", "Patient/9990000042",
                         "Organization/Y12345", "Organization/Y23456"}) {
    EXPECT_EQ(client.Send("GET", std::string("/fhir/") + id).status, 200) << id;
  }
  EXPECT_EQ(client.Send("GET", "/fhir/Patient/9990000026").status, 404);
  auto bound = client.Send("GET", "/fhir/Patient/9990000042").Json();
  EXPECT_EQ(bound.at("identifier").at(0).at("value"), "9990000042") << "NHS number bound as on PUT";
}

// A batch closes at --batch-size resources or once it holds --batch-bytes
// of JSON, whichever comes first: memory stays bounded when resources are
// large, and each batch is one transaction with one audit record.
TEST(ImportTest, BatchesCloseAtTheByteBound) {
  ServerProcess server;
  std::string dir = server.data_dir() + "/data";
  std::string file = server.data_dir() + "/patients.ndjson";
  std::string out;
  ASSERT_EQ(RunCrs({"gen", "--patients", "100", "--seed", "9", "--out", file}, &out), 0) << out;
  std::ifstream in(file);
  std::string line;
  int64_t bytes = 0, lines = 0;
  while (std::getline(in, line)) {
    bytes += static_cast<int64_t>(line.size());
    ++lines;
  }
  ASSERT_GE(lines, 100);  // the Patients, and the practices they are registered at
  // About a tenth of the input per batch: 9 to 12 batches (stored bodies
  // differ a little from the lines: meta is added).
  std::string bound = std::to_string(bytes / 10);
  ASSERT_EQ(RunCrs({"import", "--data", dir, "--batch-bytes", bound, file}, &out), 0) << out;
  int batches = CountAudit(dir, "\"action\":\"import\"");
  EXPECT_GE(batches, 9) << out;
  EXPECT_LE(batches, 12) << out;
  ASSERT_TRUE(server.Start());
  Client client(server.port(), server.SystemToken());
  EXPECT_EQ(Total(client, "/fhir/Patient?_summary=count"), 100);
}

TEST(ImportTest, InterruptedImportResumesWithoutDuplicates) {
  ServerProcess server;
  std::string dir = server.data_dir() + "/data";  // the node's, as Start() runs it
  std::string file = server.data_dir() + "/population.ndjson";
  std::string out;
  ASSERT_EQ(RunCrs({"gen", "--patients", "300", "--records", "--out", file}, &out), 0) << out;
  int lines = 0;
  for (const auto& [type, n] : TypesIn(file)) lines += n;
  ASSERT_GT(lines, 500);
  // Dies after committing batch 3 and before checkpointing it: the rerun
  // re-reads that batch (and any later one committed meanwhile), finds its
  // resources stored and writes nothing for them.
  EXPECT_EQ(
      RunCrs({"import", "--data", dir, "--batch-size", "100", "--stop-after", "3", file}, &out), 1)
      << out;
  int64_t first_run = Scalar(dir, "SELECT count(*) FROM resources");
  EXPECT_GE(first_run, 300);
  EXPECT_LT(first_run, lines);
  // On SQLite its index rows wait in runs (store/sqlite/index_runs.h) for
  // the run that completes the import.
  if (!OnPostgres()) {
    EXPECT_GT(Scalar(dir, "SELECT count(*) FROM ix_runs"), 0);
  }
  ASSERT_EQ(RunCrs({"import", "--data", dir, "--batch-size", "100", file}, &out), 0) << out;
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(out, m, std::regex("imported (\\d+) resources.*; (\\d+) already stored")))
      << out;
  EXPECT_EQ(std::stoi(m[1]), lines - first_run) << out;
  EXPECT_EQ(std::stoi(m[1]) + std::stoi(m[2]), lines - 200) << "resumed after batch 2: " << out;
  EXPECT_GE(std::stoi(m[2]), 100) << out;
  EXPECT_EQ(Scalar(dir, "SELECT count(*) FROM resources"), lines);
  EXPECT_EQ(Scalar(dir, "SELECT count(*) FROM versions"), lines) << "every resource at version 1";
  EXPECT_EQ(Scalar(dir, "SELECT max(version) FROM resources"), 1);
  // The index is whole: as large as that of one uninterrupted import.
  if (!OnPostgres()) {
    std::string fresh = server.data_dir() + "/fresh";
    ASSERT_EQ(RunCrs({"import", "--data", fresh, "--batch-size", "100", file}, &out), 0) << out;
    EXPECT_EQ(Scalar(dir, "SELECT count(*) FROM ix_runs"), 0);
    for (const char* table : {"ix_string", "ix_token", "ix_date", "ix_ref", "ix_uri"}) {
      std::string count = std::string("SELECT count(*) FROM ") + table;
      EXPECT_EQ(Scalar(dir, count), Scalar(fresh, count)) << table;
      // A generated population has no uri rows; the other tables must have some.
      if (table != std::string("ix_uri")) {
        EXPECT_GT(Scalar(fresh, count), 0) << table;
      }
    }
  }
  // A third run finds the file done.
  ASSERT_EQ(RunCrs({"import", "--data", dir, file}, &out), 0) << out;
  EXPECT_NE(out.find("imported 0 resources"), std::string::npos) << out;
  EXPECT_NE(out.find("; 0 already stored"), std::string::npos) << out;
  EXPECT_EQ(RunCrs({"audit", "verify", "--data", dir}, &out), 0) << out;
}

// --server: a running node is loaded through its FHIR API, serving
// meanwhile; bad lines are reported as for a stopped node, summary
// documents are kept as uploads, and a rerun finds everything done.
TEST(ImportTest, IntoARunningNodeThroughItsApi) {
  ServerProcess server;
  ASSERT_TRUE(server.Start());
  std::string dir = server.data_dir() + "/data";
  std::string file = server.data_dir() + "/population.ndjson";
  std::string out;
  ASSERT_EQ(RunCrs({"gen", "--patients", "200", "--summaries", "--observations", "1", "--seed",
                    "11", "--out", file}, &out),
            0)
      << out;
  std::map<std::string, int> types = TypesIn(file);
  std::string bad = server.data_dir() + "/bad.ndjson";
  {
    std::ofstream f(bad);
    f << R"({"resourceType":"Organization","id":"Y99999","name":"Late Surgery"})"
         "\n"  // 1 ok
      << R"({"resourceType":"Patient" this is not JSON)"
         "\n"  // 2
      << R"({"resourceType":"Patient","id":"1234567890","gender":"male"})"
         "\n"  // 3 NHS number
      << R"({"resourceType":"Bundle","type":"transaction","entry":[)"  // 4
      << R"({"resource":{"resourceType":"Organization","id":"Y88888"},"request":{"method":"PUT","url":"Organization/Y88888"}},)"
      << R"({"request":{"method":"DELETE","url":"Patient/9990000018"}}]})"
         "\n";
  }
  std::string url = "http://127.0.0.1:" + std::to_string(server.port());
  EXPECT_EQ(RunCrs({"import", "--data", dir, "--server", url, "--batch-size", "150", file, bad},
                   &out),
            1)
      << out;
  EXPECT_NE(out.find("3 rejected"), std::string::npos) << out;
  for (const char* where : {"bad.ndjson:2: ", "bad.ndjson:3: HTTP 400", "bad.ndjson:4: entry 2: "}) {
    EXPECT_NE(out.find(where), std::string::npos) << where << " in\n" << out;
  }
  Client client(server.port(), server.SystemToken());
  EXPECT_EQ(Total(client, "/fhir/Patient?_summary=count"), types["Patient"]);
  EXPECT_EQ(Total(client, "/fhir/Observation?_summary=count"), types["Observation"]);
  EXPECT_EQ(Total(client, "/fhir/Consent?_summary=count"), types["Consent"]);
  EXPECT_EQ(Total(client, "/fhir/Organization?_summary=count"), types["Organization"] + 2);
  // Summary documents became uploads: Bundle/scr-<nhs> with a Provenance.
  EXPECT_EQ(Total(client, "/fhir/Bundle?_summary=count"), types["Bundle"]);
  EXPECT_EQ(Total(client, "/fhir/Provenance?_summary=count"), types["Bundle"]);
  EXPECT_EQ(client.Send("GET", "/fhir/Bundle/scr-9990000018").status, 200);
  // Every write was the node's own work, audited as the importing service.
  EXPECT_GT(CountAudit(dir, R"("user":"crs-import")"), 0);
  EXPECT_GT(CountAudit(dir, R"("action":"transaction")"), 0);
  EXPECT_GT(CountAudit(dir, R"("action":"summary-upload")"), 0);
  // The checkpoint has both files done.
  ASSERT_EQ(RunCrs({"import", "--data", dir, "--server", url, file}, &out), 0) << out;
  EXPECT_NE(out.find("imported 0 resources"), std::string::npos) << out;
  // No token and no node key to sign one: a usage error.
  EXPECT_EQ(RunCrs({"import", "--data", server.data_dir() + "/none", "--server", url, file}, &out),
            2);
  EXPECT_NE(out.find("--token"), std::string::npos) << out;
  // A token that may not write: every line reported, nothing written.
  std::string reader = server.Token("patient", "", "9990000018");
  EXPECT_EQ(RunCrs({"import", "--data", dir, "--server", url, "--token", reader, "--restart", bad},
                   &out),
            1)
      << out;
  EXPECT_NE(out.find("bad.ndjson:1: HTTP 403"), std::string::npos) << out;
  ASSERT_EQ(server.Stop(SIGTERM), 0);
  EXPECT_EQ(RunCrs({"audit", "verify", "--data", dir}, &out), 0) << out;
}

TEST(ImportTest, RefusesARunningNode) {
  ServerProcess server;
  ASSERT_TRUE(server.Start());
  std::string file = server.data_dir() + "/one.ndjson";
  std::ofstream(file) << R"({"resourceType":"Organization","id":"Y12345"})"
                         "\n";
  std::string out;
  EXPECT_EQ(RunCrs({"import", "--data", server.data_dir() + "/data", file}, &out), 1);
  EXPECT_NE(out.find("in use by crs serve, pid"), std::string::npos) << out;
  EXPECT_NE(out.find("--server"), std::string::npos) << out;
  // A second server on the same directory is refused the same way.
  std::string serve_out;
  EXPECT_EQ(RunCrs({"serve", "--data", server.data_dir() + "/data", "--listen", "127.0.0.1:0"},
                   &serve_out),
            1);
  EXPECT_NE(serve_out.find("in use by crs serve"), std::string::npos) << serve_out;
}

}  // namespace
}  // namespace crs::e2e
