// `crs import`: bulk-load NDJSON files and Bundles into a stopped node, or
// through the FHIR API of a running one (--server) (docs/import.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace crs::cli {

struct ImportCommandOptions {
  std::string data_dir = "./data";
  std::string store_url = "sqlite:";
  bool fulltext = false;  // the node keeps a full-text index (crs serve --fulltext)
  bool trace_keys = false;  // the node keeps trace keys (crs serve --trace-keys)
  std::vector<std::string> paths;
  std::string org = "IMPORT";
  std::string report;  // empty: DIR/import-report-<time>.txt
  int batch_size = 0;  // 0: the default of the local or remote import
  int64_t batch_bytes = 0;  // 0: the local import's default (64 MB)
  bool restart = false;    // ignore (and replace) the checkpoint
  std::string consent_model = "implied";  // Summary Care Record documents
  std::string sensitive_codes;            // empty: the shipped list
  int64_t stop_after = 0;  // tests (hidden): exit abruptly after this many batches
  std::string server;      // a running node's base URL: import through its API
  std::string token;       // with server: the bearer token (default: minted from DIR's node key)
};

// Adds the `import` subcommand to `app`, parsing into `options` (which must
// outlive parsing). Returns the subcommand.
CLI::App* RegisterImport(CLI::App& app, ImportCommandOptions* options);

// Runs `crs import`; returns the exit code: 0 everything loaded, 1 some
// lines rejected (or a failure, or interrupted), 2 bad usage.
int RunImport(const ImportCommandOptions& options);

}  // namespace crs::cli
