// End-to-end test harness: runs the real build/crs binary on port 0 in a
// temporary data directory and talks HTTP to it over loopback.
#pragma once

#include <sys/types.h>

#include <boost/json.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/ports.h"  // crs::testing::ReservePort, for nodes given a fixed address

namespace crs::e2e {

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  boost::json::value Json() const;  // parses body; null value when not JSON
};

// A keep-alive HTTP/1.1 connection to 127.0.0.1:port. One thread at a time.
class Client {
 public:
  // `token`, when not empty, is sent as "Authorization: Bearer <token>" with
  // every request that does not set an Authorization header itself (an
  // empty Authorization value sends none).
  explicit Client(int port, std::string token = "");
  ~Client();
  void SetToken(std::string token);
  // Sends one request. status 0 in the result means the connection failed.
  HttpResult Send(const std::string& method, const std::string& target,
                  const std::string& body = "",
                  const std::vector<std::pair<std::string, std::string>>& headers = {});

 private:
  HttpResult SendOnce(const std::string& method, const std::string& target,
                      const std::string& body,
                      const std::vector<std::pair<std::string, std::string>>& headers);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A crs server process.
class ServerProcess {
 public:
  // Creates a fresh temporary data directory (removed by the destructor).
  ServerProcess();
  ~ServerProcess();

  // Starts `crs serve --data DIR --listen 127.0.0.1:0` plus `extra_args`
  // (which may give their own --listen);
  // returns false (and records why) if it did not print its listen line.
  // Under CRS_E2E_STORE=postgres the server also gets `--store URL` of a
  // fresh database on the test server (the same one on every Start of this
  // process object).
  bool Start(const std::vector<std::string>& extra_args = {});
  // Sends `signal` and waits for exit; returns the exit status (or -signal).
  int Stop(int signal);
  int port() const { return port_; }
  const std::string& data_dir() const { return data_dir_; }
  // The --store URL the server runs with ("" for the data dir's SQLite file).
  const std::string& store_url() const { return store_url_; }
  std::string Base() const { return "/fhir"; }

  // A bearer token signed by this server's node key (created by Start()).
  // `role` is a national RBAC role code, "patient" or "system".
  std::string Token(const std::string& role, const std::string& org,
                    const std::string& patient = "",
                    const std::vector<std::string>& activities = {},
                    const std::vector<std::string>& scopes = {},
                    const std::string& user = "") const;
  // A backend-service token (role system, organisation TEST, system/*.cruds):
  // every patient, for tests that are not about access control.
  std::string SystemToken() const;

 private:
  std::string data_dir_;
  std::string store_url_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// Runs the crs binary with `args` and returns its exit code; output into *out.
// `crs import|serve|audit verify --data DIR` of a ServerProcess's data dir
// gets that server's `--store` too (PostgreSQL runs).
int RunCrs(const std::vector<std::string>& args, std::string* out);

// The first column of the first row of `sql` over the store of the node
// whose data dir is `data_dir` (its crs.db, or its PostgreSQL database);
// -1 when it cannot be read.
int64_t StoreScalar(const std::string& data_dir, const std::string& sql);

// Runs statements (SQL both dialects read alike) on the store of the
// stopped node whose data dir is `data_dir`; true when they succeeded.
bool StoreExec(const std::string& data_dir, const std::string& sql);

// Runs a statement on the node's audit log (crs-audit.db, or its PostgreSQL
// database), in the dialect of each; true when it succeeded.
bool AuditLogExec(const std::string& data_dir, const std::string& sqlite_sql,
                  const std::string& postgres_sql);

// True when the end-to-end tests run against PostgreSQL (CRS_E2E_STORE=postgres,
// or postgres:URLFILE naming the test server's URL file).
bool OnPostgres();

// Every audit record's JSON text in the node's audit log (DATA/crs-audit.db,
// or the PostgreSQL database of the server using DATA), oldest first;
// readable while the server runs.
std::vector<std::string> AuditRecords(const std::string& data_dir);

// Reads a file into a string (empty when unreadable).
std::string ReadFile(const std::string& path);

// "Type/id" from a Location header "http://host/fhir/Type/id/_history/n".
std::string IdFromLocation(const std::string& location);

}  // namespace crs::e2e
