// The crs command line: parses flags (CLI11) and a TOML config file into
// plain option structs and calls the library. See `crs --help`.
#pragma once

namespace crs::cli {

// Runs `crs` with the given arguments; returns the process exit code
// (0 success, 1 failure, 2 bad usage).
int Main(int argc, char** argv);

}  // namespace crs::cli
