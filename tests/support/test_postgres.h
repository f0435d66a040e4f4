// A throwaway PostgreSQL server for tests (the Store conformance suites and
// the end-to-end API tests run against SQLite and PostgreSQL alike).
//
// Where the server comes from, in order:
//   - CRS_TEST_POSTGRES=0: nowhere; tests needing PostgreSQL skip, saying so.
//   - CRS_TEST_POSTGRES_URL=postgres://user@host:port/db: a running server
//     on which the tests may create databases.
//   - CRS_TEST_POSTGRES_URL_FILE=PATH: the same URL read from PATH (ctest
//     starts one cluster for the whole run and writes its URL there).
//   - otherwise this process starts its own cluster (initdb in a temp dir,
//     pg_ctl on a free loopback port, fsync off) and stops it at exit.
// As root, the server runs as the `postgres` user (initdb refuses root).
//
// Thread safety: call from the test's main thread.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace crs::testing {

// The store URLs the conformance suites run against: "sqlite:", and
// "postgres" in builds with the PostgreSQL backend (resolved per test by
// FreshPostgresDatabase).
std::vector<std::string> StoreBackends();

// True when the tests were told to run without PostgreSQL (CRS_TEST_POSTGRES=0).
bool PostgresDisabled();

// The URL of a new, empty database on the test server.
Result<std::string> FreshPostgresDatabase();

// The store URL for backend `backend` (an element of StoreBackends()):
// "sqlite:" as is, a fresh database for "postgres".
Result<std::string> StoreUrlFor(const std::string& backend);

// A cluster in `dir` (created) on a free loopback port; returns its admin
// URL. `settings`: more server options ("-c name=value ..."). For the
// ctest fixture, FreshPostgresDatabase and the replication test.
Result<std::string> StartCluster(const std::string& dir, const std::string& settings = "");
// A hot standby of the cluster listening on `primary_port`, in `dir`
// (pg_basebackup -R, streaming), on a free loopback port; its admin URL.
Result<std::string> StartStandby(int primary_port, const std::string& dir);
// Stops the cluster in `dir` (immediate shutdown: as if the machine died).
Status StopCluster(const std::string& dir);
// Starts a stopped cluster again with the options it last ran with.
Status RestartCluster(const std::string& dir);
// Promotes the standby in `dir` to a primary and waits until it is one.
Status PromoteCluster(const std::string& dir);
// Runs `sql` (no single quotes) on the server at `url` with psql; its
// output, unaligned and without headers.
Result<std::string> RunSql(const std::string& url, const std::string& sql);
// The port of a postgres://...:PORT/... URL (0 when it names none).
int PortOf(const std::string& url);

}  // namespace crs::testing
