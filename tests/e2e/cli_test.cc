// The command line: --help describes every flag, the TOML config file works.
#include <filesystem>
#include <fstream>

#include "e2e/fixture.h"

namespace crs::e2e {
namespace {

TEST(CliTest, HelpDescribesEveryFlag) {
  std::string out;
  EXPECT_EQ(RunCrs({"--help"}, &out), 0);
  EXPECT_NE(out.find("serve"), std::string::npos);
  EXPECT_EQ(RunCrs({"serve", "--help"}, &out), 0);
  for (const char* flag : {"--config", "--data", "--listen", "--store", "--role", "--base-url",
                           "--max-body", "--io-threads", "--worker-threads", "--demo"}) {
    EXPECT_NE(out.find(flag), std::string::npos) << flag;
  }
  EXPECT_EQ(RunCrs({"serve", "--no-such-flag"}, &out), 2);
  EXPECT_EQ(RunCrs({}, &out), 2);
}

TEST(CliTest, ConfigFileSetsOptions) {
  ServerProcess server;
  std::string config = server.data_dir() + "/crs.toml";
  {
    std::ofstream f(config);
    f << "base_url = \"https://records.example.org/fhir\"\n";
    f << "ui = \"" << server.data_dir() << "/ui\"\n";
  }
  std::filesystem::create_directories(server.data_dir() + "/ui");
  std::ofstream(server.data_dir() + "/ui/index.html")
      << "<!doctype html><title>from the config</title>";
  ASSERT_TRUE(server.Start({"--config", config}));
  Client c(server.port(), server.SystemToken());
  auto r = c.Send("POST", "/fhir/Patient", R"({"resourceType":"Patient"})");
  EXPECT_EQ(r.Header("location").rfind("https://records.example.org/fhir/Patient/", 0), 0u)
      << r.Header("location");
  EXPECT_NE(c.Send("GET", "/").body.find("from the config"), std::string::npos);
}

TEST(CliTest, BadConfigFileIsAUsageError) {
  ServerProcess server;
  std::string config = server.data_dir() + "/bad.toml";
  {
    std::ofstream f(config);
    f << "colour = \"blue\"\n";
  }
  std::string out;
  EXPECT_EQ(RunCrs({"serve", "--config", config}, &out), 2);
  EXPECT_NE(out.find("unknown key"), std::string::npos) << out;
}

TEST(CliTest, DemoDataIsLoadedOnce) {
  ServerProcess server;
  ASSERT_TRUE(server.Start({"--demo"}));
  Client c(server.port(), server.SystemToken());
  auto p = c.Send("GET", "/fhir/Patient/9990000018");
  ASSERT_EQ(p.status, 200) << p.body;
  server.Stop(SIGTERM);
  ASSERT_TRUE(server.Start({"--demo"}));
  Client c2(server.port(), server.SystemToken());
  EXPECT_EQ(c2.Send("GET", "/fhir/Patient/9990000018").Header("etag"), "W/\"1\"");
}

}  // namespace
}  // namespace crs::e2e
