#include "support/test_postgres.h"

#include "support/ports.h"

#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace crs::testing {
namespace {

constexpr const char* kBin = "/usr/lib/postgresql/15/bin/";

// Runs a shell command, as `postgres` when we are root; its output goes to
// `log`. True when it exited 0.
bool Run(const std::string& command, const std::string& log) {
  std::string cmd = command;
  if (geteuid() == 0) cmd = "runuser -u postgres -- " + cmd;
  cmd += " >>" + log + " 2>&1";
  return std::system(cmd.c_str()) == 0;
}

struct Server {
  std::string url;  // admin URL, database "postgres"
  std::string own_dir;  // set when this process started it
};

// Host and port of a postgres://user@host:port/db URL.
bool HostPort(const std::string& url, std::string* user, std::string* host, std::string* port) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return false;
  std::string rest = url.substr(scheme + 3);
  size_t at = rest.find('@');
  *user = at == std::string::npos ? "postgres" : rest.substr(0, at);
  rest = at == std::string::npos ? rest : rest.substr(at + 1);
  size_t slash = rest.find('/');
  std::string hp = rest.substr(0, slash);
  size_t colon = hp.rfind(':');
  *host = hp.substr(0, colon);
  *port = colon == std::string::npos ? "5432" : hp.substr(colon + 1);
  return true;
}

Result<Server*> TheServer() {
  static Server server;
  static Status failed = Status::Ok();
  if (!failed.ok()) return failed;
  if (!server.url.empty()) return &server;
  if (const char* url = std::getenv("CRS_TEST_POSTGRES_URL"); url && *url) {
    server.url = url;
    return &server;
  }
  if (const char* file = std::getenv("CRS_TEST_POSTGRES_URL_FILE"); file && *file) {
    std::ifstream in(file);
    std::getline(in, server.url);
    if (server.url.empty()) {
      failed = Status::Unavailable(std::string("no PostgreSQL test server URL in ") + file +
                                   " (did the crs_postgres_cluster fixture start?)");
      return failed;
    }
    return &server;
  }
  char tmpl[] = "/tmp/crs-pg-XXXXXX";
  if (!mkdtemp(tmpl)) return Status::Unavailable("cannot create a temp dir");
  auto url = StartCluster(tmpl);
  if (!url.ok()) {
    failed = url.status();
    return failed;
  }
  server.url = *url;
  server.own_dir = tmpl;
  std::atexit([] {
    (void)StopCluster(server.own_dir);
    std::error_code ec;
    std::filesystem::remove_all(server.own_dir, ec);
  });
  return &server;
}

}  // namespace

std::vector<std::string> StoreBackends() {
#ifdef CRS_WITH_POSTGRES
  return {"sqlite:", "postgres"};
#else
  return {"sqlite:"};
#endif
}

bool PostgresDisabled() {
  const char* v = std::getenv("CRS_TEST_POSTGRES");
  return v && std::string(v) == "0";
}

Result<std::string> FreshPostgresDatabase() {
  CRS_ASSIGN_OR_RETURN(Server * server, TheServer());
  static std::atomic<int> counter{0};
  std::random_device rd;
  std::string name = "t" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" +
                     std::to_string(rd() % 1000000);
  std::string user, host, port;
  if (!HostPort(server->url, &user, &host, &port)) return Status::Invalid("bad test server URL");
  std::string cmd = std::string(kBin) + "createdb -h " + host + " -p " + port + " -U " + user +
                    " " + name + " >/dev/null 2>&1";
  // createdb is a client: it needs no particular user, so run it as we are.
  if (std::system(cmd.c_str()) != 0) {
    return Status::Unavailable("createdb failed on the PostgreSQL test server " + host + ":" + port);
  }
  return "postgres://" + user + "@" + host + ":" + port + "/" + name;
}

Result<std::string> StoreUrlFor(const std::string& backend) {
  if (backend == "postgres") return FreshPostgresDatabase();
  return backend;
}

namespace {

// Creates `dir` for the server's user.
Status PrepareDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (geteuid() == 0) {
    passwd* pw = getpwnam("postgres");
    if (!pw) return Status::Unavailable("running as root, but there is no `postgres` user");
    if (chown(dir.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      return Status::Unavailable("cannot hand " + dir + " to the postgres user");
    }
  }
  return Status::Ok();
}

// pg_ctl start of the cluster in dir/data on a free port; its admin URL.
Result<std::string> Launch(const std::string& dir, const std::string& settings) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    int port = ReservePort();
    std::string opts = "-c listen_addresses=127.0.0.1 -c port=" + std::to_string(port) +
                       " -c unix_socket_directories=" + dir +
                       " -c fsync=off -c full_page_writes=off"
                       " -c max_connections=200 -c shared_buffers=64MB " + settings;
    if (Run(std::string(kBin) + "pg_ctl -D " + dir + "/data -l " + dir +
                "/server.log -w -t 60 -o \"" + opts + "\" start",
            "/dev/null")) {
      return "postgres://postgres@127.0.0.1:" + std::to_string(port) + "/postgres";
    }
  }
  return Status::Unavailable("pg_ctl could not start a cluster in " + dir + " (see server.log)");
}

}  // namespace

Result<std::string> StartCluster(const std::string& dir, const std::string& settings) {
  CRS_RETURN_IF_ERROR(PrepareDir(dir));
  if (!Run(std::string(kBin) + "initdb -D " + dir +
               "/data -U postgres --auth=trust -E UTF8 --locale=C --no-sync",
           "/dev/null")) {
    return Status::Unavailable("initdb failed in " + dir +
                               " (is postgresql-15 installed? scripts/install-deps.sh)");
  }
  // Tests trade durability for speed unless they ask otherwise.
  std::string opts = settings.find("synchronous_commit") == std::string::npos
                         ? "-c synchronous_commit=off " + settings
                         : settings;
  return Launch(dir, opts);
}

Result<std::string> StartStandby(int primary_port, const std::string& dir) {
  CRS_RETURN_IF_ERROR(PrepareDir(dir));
  if (!Run(std::string(kBin) + "pg_basebackup -h 127.0.0.1 -p " + std::to_string(primary_port) +
               " -U postgres -D " + dir + "/data -R -X stream --no-sync",
           "/dev/null")) {
    return Status::Unavailable("pg_basebackup from port " + std::to_string(primary_port) +
                               " failed");
  }
  return Launch(dir, "-c hot_standby=on");
}

Status RestartCluster(const std::string& dir) {
  if (!Run(std::string(kBin) + "pg_ctl -D " + dir + "/data -l " + dir +
               "/server.log -w -t 60 restart",
           "/dev/null")) {
    return Status::Unavailable("pg_ctl restart failed in " + dir);
  }
  return Status::Ok();
}

Status PromoteCluster(const std::string& dir) {
  if (!Run(std::string(kBin) + "pg_ctl -D " + dir + "/data -w -t 60 promote", "/dev/null")) {
    return Status::Unavailable("pg_ctl promote failed in " + dir);
  }
  return Status::Ok();
}

Result<std::string> RunSql(const std::string& url, const std::string& sql) {
  if (sql.find('\'') != std::string::npos || url.find('\'') != std::string::npos) {
    return Status::Invalid("RunSql: no single quotes");
  }
  // psql is a client: it needs no particular user, so run it as we are.
  std::string cmd = "psql -X -q -A -t -v ON_ERROR_STOP=1 -d '" + url + "' -c '" + sql + "' 2>&1";
  FILE* f = popen(cmd.c_str(), "r");
  if (f == nullptr) return Status::Unavailable("RunSql: cannot run psql");
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
  if (pclose(f) != 0) return Status::Unavailable("psql failed: " + out);
  return out;
}

int PortOf(const std::string& url) {
  std::string user, host, port;
  if (!HostPort(url, &user, &host, &port)) return 0;
  return std::atoi(port.c_str());
}

Status StopCluster(const std::string& dir) {
  if (dir.empty()) return Status::Ok();
  if (!Run(std::string(kBin) + "pg_ctl -D " + dir + "/data -m immediate -w stop", "/dev/null")) {
    return Status::Unavailable("pg_ctl stop failed in " + dir);
  }
  return Status::Ok();
}

}  // namespace crs::testing
