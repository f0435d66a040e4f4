// `crs serve`: run a node until SIGINT/SIGTERM.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace crs::cli {

struct ServeOptions {
  std::string data_dir = "./data";
  std::string listen = "127.0.0.1:8080";
  std::string store_url = "sqlite:";
  int store_pool = 16;  // PostgreSQL reader connections
  std::vector<std::string> replicas;  // PostgreSQL read replicas (URLs)
  int replica_max_lag_ms = 5000;      // a replica further behind answers nobody
  bool fulltext = false;  // keep the full-text index: _text and _content (docs/search.md)
  bool trace_keys = false;  // keep trace keys: traces seek them (docs/trace.md)
  std::string role = "national";
  std::string base_url;  // empty: derived from the Host header
  // Federation (docs/federation.md).
  std::string org;            // local nodes: the organisation's ODS code
  std::string national_url;   // local nodes: publish pointers to this national node
  std::string national_jwks;  // local nodes: trust users' tokens signed by these keys
  bool upload_summaries = false;  // local GP nodes: keep the national summaries in step
  int fanout_timeout_ms = 3000;  // national node: per-node limit of a federated $everything
  int consent_ttl_s = 60;        // local nodes: how long national consent state is reused
  int transfer_timeout_s = 600;  // linked local nodes: how long a GP2GP transfer may take
  int transfer_chunk = 1000;     // records per GP2GP chunk (hidden flag: tests, benchmarks)
  uint64_t max_body_bytes = 32ull << 20;
  int io_threads = 2;
  int worker_threads = 64;
  bool demo = false;  // load the demo data set into an empty store
  // The web UI's built files (web/, `make ui`), served at / (docs/ui.md).
  // A missing directory is logged and / answers 404; empty: no UI.
  std::string ui_dir = "./web/dist";
  // Access control (docs/access.md).
  std::string audience = "urn:opencrs:fhir";  // the `aud` tokens must carry
  std::string jwks_file;    // JWKS of an external identity provider (optional)
  std::string jwks_issuer;  // the `iss` of tokens signed by those keys
  std::string consent_model = "implied";  // implied | explicit (Summary Care Record)
  int volume_alert = 100;  // distinct patients per user per hour before a "volume" alert
  // FIRST-LAST: where NHS numbers of Patients created without one come from
  // (docs/demographics.md). Default: the synthetic test range.
  std::string nhs_number_range = "9990000000-9999999999";
  // SNOMED CT codes never held in a Summary Care Record; empty: the shipped list.
  std::string sensitive_codes;
  // Benchmarks only (hidden flag): serve without tokens, access control or
  // audit, to measure their cost in the same run. Refused unless listening
  // on a loopback address.
  bool benchmark_baseline = false;
  bool benchmark_without_index = false;
};

// Loads options from a TOML file (keys as in docs/configuration.md), leaving
// absent keys unchanged. Returns false and fills `error` on failure.
bool LoadConfigFile(const std::string& path, ServeOptions* options, std::string* error);

// Runs the server; returns the process exit code.
int RunServe(const ServeOptions& options);

}  // namespace crs::cli
