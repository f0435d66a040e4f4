// `crs serve`: run a node until SIGINT/SIGTERM.
#pragma once

#include <cstdint>
#include <string>

namespace crs::cli {

struct ServeOptions {
  std::string data_dir = "./data";
  std::string listen = "127.0.0.1:8080";
  std::string store_url = "sqlite:";
  std::string role = "national";
  std::string base_url;  // empty: derived from the Host header
  uint64_t max_body_bytes = 32ull << 20;
  int io_threads = 2;
  int worker_threads = 64;
  bool demo = false;  // load the demo data set into an empty store
};

// Loads options from a TOML file (keys as in docs/configuration.md), leaving
// absent keys unchanged. Returns false and fills `error` on failure.
bool LoadConfigFile(const std::string& path, ServeOptions* options, std::string* error);

// Runs the server; returns the process exit code.
int RunServe(const ServeOptions& options);

}  // namespace crs::cli
