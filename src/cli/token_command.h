// `crs token`: print a bearer token signed by the node key of a data
// directory (see access/jwt.h for the claims).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
}

namespace crs::cli {

struct TokenCommandOptions {
  std::string data_dir = "./data";
  std::string user;
  std::string role;
  std::string org;
  std::string patient;
  std::vector<std::string> scopes;
  std::vector<std::string> activities;
  std::string name;
  std::string audience;  // empty: the default audience
  std::string ttl = "8h";
};

// Adds the `token` subcommand to `app`, parsing into `options` (which must
// outlive parsing). Returns the subcommand.
CLI::App* RegisterToken(CLI::App& app, TokenCommandOptions* options);

// Runs `crs token`: loads (or creates) the node key in the data directory and
// prints the token as the last line of stdout. Returns 0, 1 when the key
// cannot be loaded or created, 2 for bad usage (unknown role, bad NHS number,
// bad ttl), with the reason on stderr.
int RunToken(const TokenCommandOptions& options);

// A duration such as "30m", "8h", "1d", "3600s" or "3600" (seconds), in
// seconds; nullopt when malformed or not positive.
std::optional<int64_t> ParseDurationSeconds(std::string_view text);

}  // namespace crs::cli
