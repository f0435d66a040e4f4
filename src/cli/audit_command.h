// `crs audit verify`: check a data directory's audit log (chain, seqs,
// checkpoint signatures); exit 0 only when intact. A hidden `crs audit
// bench` appends synthetic records from many threads and reports the rate
// (bench/audit_verify.sh fills a store with it).
#pragma once

#include <cstdint>
#include <string>

namespace CLI {
class App;
}

namespace crs::cli {

struct AuditCommandOptions {
  std::string command;  // "verify" or "bench": which subcommand was given
  std::string data_dir = "./data";
  std::string store_url = "sqlite:";
  int64_t max_uncovered = -1;
  // bench
  int64_t records = 1000000;
  int threads = 8;
  int per_call = 1;
};

// Adds `audit` with its subcommands to `app`, parsing into `options`
// (which must outlive parsing). Returns the `audit` subcommand.
CLI::App* RegisterAudit(CLI::App& app, AuditCommandOptions* options);

// Runs the parsed audit subcommand; returns the exit code (0 ok/intact,
// 1 failure or broken log, 2 bad usage).
int RunAudit(const AuditCommandOptions& options);

}  // namespace crs::cli
