// The federated $everything's fan-out (docs/federation.md): fetches the
// records that pointers name from the nodes holding them, in parallel, with
// the caller's own credentials and a deadline per node.
//
// A record URL is fetched only when it lies under the base URL its
// custodian registered in the node registry, so the caller's token is never
// sent anywhere but to a registered node. What a node refused (401, 403,
// 404, 410) is left out silently: the holder decided, and audited. A node
// that could not be asked, did not answer in time, or failed (other
// statuses) is reported with a reason, so partial success is never silent.
//
// Thread safety: Fetch may be called from any number of threads at once.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "federation/registry.h"

namespace crs::federation {

// The records one node holds, as their pointers name them.
struct HolderRecords {
  std::string ods;                // the custodian's ODS code
  std::vector<std::string> urls;  // content.attachment.url of its pointers
};

struct FetchedRecord {
  std::string ods;
  std::string url;
  std::string body;  // the holder's JSON response
};

struct Unanswered {
  std::string ods;
  std::string reason;  // no personal data: status codes, timeouts, counts
};

struct FanOutResult {
  std::vector<FetchedRecord> records;
  std::vector<Unanswered> unanswered;
};

class FanOut {
 public:
  // `registry` must outlive the fan-out. `timeout` bounds each node's part
  // (all of its records); nodes are asked in parallel.
  FanOut(NodeRegistry& registry, std::chrono::milliseconds timeout)
      : registry_(registry), timeout_(timeout) {}

  // Fetches the holders' records with `headers` (the caller's Authorization
  // and access headers) on every request. Returns within about the timeout.
  FanOutResult Fetch(const std::vector<HolderRecords>& holders,
                     const std::vector<std::pair<std::string, std::string>>& headers);

 private:
  NodeRegistry& registry_;
  const std::chrono::milliseconds timeout_;
};

}  // namespace crs::federation
