// `crs node` (the node registry and a node's public keys) and `crs outbox`
// (what a node still has to tell other nodes), docs/federation.md.
#pragma once

#include <cstdint>
#include <string>

namespace CLI {
class App;
}

namespace crs::cli {

struct NodeCommandOptions {
  std::string data_dir = "./data";
  std::string national;  // the national node's FHIR base URL (add, list)
  std::string ods;       // add
  std::string url;       // add: the registered node's FHIR base URL
  std::string jwks;      // add: file with the node's public JWKS (`crs node jwks`)
};

struct OutboxCommandOptions {
  std::string data_dir = "./data";
  int64_t id = 0;    // replay: one dead letter
  bool all = false;      // replay: every dead letter and every failed transfer
  std::string transfer;  // replay: one failed GP2GP transfer, asked for again
};

// Adds `node` with subcommands jwks, add, list. Returns the `node` command.
CLI::App* RegisterNode(CLI::App& app, NodeCommandOptions* options);
int RunNode(const CLI::App& node, const NodeCommandOptions& options);

struct TransferCommandOptions {
  std::string data_dir = "./data";
};

// Adds `transfer` with subcommand list (GP2GP transfers of this node).
CLI::App* RegisterTransfer(CLI::App& app, TransferCommandOptions* options);
int RunTransfer(const CLI::App& transfer, const TransferCommandOptions& options);

// Adds `outbox` with subcommands list, replay.
CLI::App* RegisterOutbox(CLI::App& app, OutboxCommandOptions* options);
int RunOutbox(const CLI::App& outbox, const OutboxCommandOptions& options);

}  // namespace crs::cli
