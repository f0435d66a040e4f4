#include "federation/fanout.h"

#include <algorithm>
#include <boost/json.hpp>
#include <future>

#include "http/client.h"

namespace crs::federation {

namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

constexpr size_t kConnectionsPerNode = 4;

// What one connection to a holder brought back.
struct NodePart {
  std::vector<FetchedRecord> records;
  std::string fatal;     // why it stopped early ("": it did not)
  size_t failed = 0;     // records answered with an unexpected status
  int last_status = 0;   // the latest such status
  size_t elsewhere = 0;  // URLs not under the node's registered address
};

// A holder's answer is used only when it is a FHIR resource.
bool IsResource(const std::string& body) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  return !ec && v.is_object() && v.as_object().contains("resourceType");
}

NodePart AskNode(const Node& node, const HolderRecords& holder,
                 const std::vector<std::pair<std::string, std::string>>& headers,
                 milliseconds timeout) {
  NodePart part;
  auto deadline = SteadyClock::now() + timeout;
  auto client = http::Client::Create(node.base_url);
  if (!client.ok()) {
    part.fatal = "its registered address is not usable";
    return part;
  }
  std::string base = node.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  for (const auto& url : holder.urls) {
    if (!url.starts_with(base + "/")) {
      ++part.elsewhere;  // never send the caller's token off the registered node
      continue;
    }
    auto left = duration_cast<milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) {
      part.fatal = "no answer within " + std::to_string(timeout.count()) + " ms";
      return part;
    }
    auto r = (*client)->Send("GET", url.substr(base.size()), headers, "", left);
    if (!r.ok()) {
      // The client's timer and this clock may differ by a hair.
      bool late = SteadyClock::now() + milliseconds(20) >= deadline;
      part.fatal = late ? "no answer within " + std::to_string(timeout.count()) + " ms"
                        : "unreachable: " + r.status().message();
      return part;
    }
    if (r->status == 200 && IsResource(r->body)) {
      part.records.push_back({holder.ods, url, std::move(r->body)});
    } else if (r->status != 401 && r->status != 403 && r->status != 404 && r->status != 410) {
      ++part.failed;  // 401..410: the holder refused this caller, and audited it
      part.last_status = r->status;
    }
  }
  return part;
}

// One reason for a holder's parts ("" when it answered for every record).
std::string Describe(const std::vector<NodePart>& parts) {
  std::string fatal;
  size_t failed = 0, elsewhere = 0;
  int last_status = 0;
  for (const auto& p : parts) {
    if (fatal.empty()) fatal = p.fatal;
    failed += p.failed;
    elsewhere += p.elsewhere;
    if (p.failed > 0) last_status = p.last_status;
  }
  std::vector<std::string> reasons;
  if (!fatal.empty()) reasons.push_back(fatal);
  if (failed > 0) {
    reasons.push_back(std::to_string(failed) + " record(s) failed (status " +
                      std::to_string(last_status) + ")");
  }
  if (elsewhere > 0) {
    reasons.push_back(std::to_string(elsewhere) +
                      " pointer(s) not under the node's registered address were not followed");
  }
  std::string out;
  for (const auto& r : reasons) out += (out.empty() ? "" : "; ") + r;
  return out;
}

}  // namespace

FanOutResult FanOut::Fetch(const std::vector<HolderRecords>& holders,
                           const std::vector<std::pair<std::string, std::string>>& headers) {
  FanOutResult result;
  // Each holder is asked over up to kConnectionsPerNode connections at
  // once, each with its share of the records and the node's whole deadline.
  struct Asked {
    std::string ods;
    std::vector<HolderRecords> shares;
    std::vector<std::future<NodePart>> parts;
  };
  std::vector<Asked> asked;
  asked.reserve(holders.size());  // the asks hold references into the shares
  for (const auto& h : holders) {
    auto node = registry_.Find(h.ods);
    if (!node) {
      result.unanswered.push_back({h.ods, "not an active node in the node registry"});
      continue;
    }
    Asked a{h.ods, {}, {}};
    size_t n = std::min(kConnectionsPerNode, h.urls.size());
    a.shares.resize(n, HolderRecords{h.ods, {}});
    for (size_t i = 0; i < h.urls.size(); ++i) a.shares[i % n].urls.push_back(h.urls[i]);
    asked.push_back(std::move(a));
    Asked& added = asked.back();
    for (const auto& share : added.shares) {
      added.parts.push_back(std::async(std::launch::async, AskNode, *node, std::cref(share),
                                       std::cref(headers), timeout_));
    }
  }
  for (auto& a : asked) {
    std::vector<NodePart> parts;
    for (auto& f : a.parts) parts.push_back(f.get());
    for (auto& p : parts) {
      for (auto& r : p.records) result.records.push_back(std::move(r));
    }
    if (std::string why = Describe(parts); !why.empty()) {
      result.unanswered.push_back({a.ods, std::move(why)});
    }
  }
  return result;
}

}  // namespace crs::federation
