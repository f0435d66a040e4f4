// `crs gen`: write a synthetic population as NDJSON (see gen/population.h).
#pragma once

#include <cstdint>
#include <string>

namespace CLI {
class App;
}

namespace crs::cli {

struct GenCommandOptions {
  std::uint64_t patients = 0;
  std::uint64_t seed = 1;
  bool summaries = false;
  bool records = false;
  int observations = 0;
  std::string out;  // empty: stdout
};

// Adds the `gen` subcommand to `app`, parsing into `options` (which must
// outlive parsing). Returns the subcommand.
CLI::App* RegisterGen(CLI::App& app, GenCommandOptions* options);

// Runs `crs gen`; returns the process exit code (0 ok, 1 failure).
int RunGen(const GenCommandOptions& options);

}  // namespace crs::cli
