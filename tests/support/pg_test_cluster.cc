// The ctest fixture's PostgreSQL server: `pg_test_cluster start DIR URLFILE`
// starts a throwaway cluster in DIR and writes its admin URL to URLFILE;
// `pg_test_cluster stop DIR` stops it and removes DIR.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/test_postgres.h"

int main(int argc, char** argv) {
  std::string verb = argc > 1 ? argv[1] : "";
  if (verb == "start" && argc == 4) {
    if (crs::testing::PostgresDisabled()) {
      std::printf("CRS_TEST_POSTGRES=0: no PostgreSQL test server; its tests skip\n");
      std::ofstream(argv[3]) << "";
      return 0;
    }
    // A cluster left running by an interrupted run is stopped first.
    if (std::filesystem::exists(std::string(argv[2]) + "/data/postmaster.pid")) {
      (void)crs::testing::StopCluster(argv[2]);
    }
    std::error_code ec;
    std::filesystem::remove_all(argv[2], ec);
    auto url = crs::testing::StartCluster(argv[2]);
    if (!url.ok()) {
      std::fprintf(stderr, "pg_test_cluster: %s\n", url.status().message().c_str());
      return 1;
    }
    std::ofstream(argv[3]) << *url << "\n";
    std::printf("PostgreSQL test server: %s\n", url->c_str());
    return 0;
  }
  if (verb == "stop" && argc == 3) {
    // Nothing to stop when none was started (CRS_TEST_POSTGRES=0).
    bool running = std::filesystem::exists(std::string(argv[2]) + "/data/postmaster.pid");
    auto st = running ? crs::testing::StopCluster(argv[2]) : crs::Status::Ok();
    std::error_code ec;
    std::filesystem::remove_all(argv[2], ec);
    if (!st.ok()) std::fprintf(stderr, "pg_test_cluster: %s\n", st.message().c_str());
    return st.ok() ? 0 : 1;
  }
  std::fprintf(stderr, "usage: pg_test_cluster start DIR URLFILE | stop DIR\n");
  return 2;
}
