#include "federation/fanout.h"

#include <boost/json.hpp>
#include <future>

#include "http/client.h"

namespace crs::federation {

namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

struct NodePart {
  std::vector<FetchedRecord> records;
  std::vector<std::string> problems;  // empty: the node answered for every record
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
    part.problems.push_back("its registered address is not usable");
    return part;
  }
  std::string base = node.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  size_t elsewhere = 0, failed = 0, done = 0;
  int last_status = 0;
  for (const auto& url : holder.urls) {
    if (!url.starts_with(base + "/")) {
      ++elsewhere;  // never send the caller's token off the registered node
      continue;
    }
    auto left = duration_cast<milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) {
      part.problems.push_back("no answer within " + std::to_string(timeout.count()) + " ms (" +
                              std::to_string(done) + " of " + std::to_string(holder.urls.size()) +
                              " records fetched)");
      return part;
    }
    auto r = (*client)->Send("GET", url.substr(base.size()), headers, "", left);
    ++done;
    if (!r.ok()) {
      // The client's timer and this clock may differ by a hair.
      bool late = SteadyClock::now() + milliseconds(20) >= deadline;
      part.problems.push_back(late ? "no answer within " + std::to_string(timeout.count()) + " ms"
                                   : "unreachable: " + r.status().message());
      return part;
    }
    if (r->status == 200 && IsResource(r->body)) {
      part.records.push_back({holder.ods, url, std::move(r->body)});
    } else if (r->status != 401 && r->status != 403 && r->status != 404 && r->status != 410) {
      ++failed;  // 401..410: the holder refused this caller, and audited it
      last_status = r->status;
    }
  }
  if (failed > 0) {
    part.problems.push_back(std::to_string(failed) + " record(s) failed (status " +
                            std::to_string(last_status) + ")");
  }
  if (elsewhere > 0) {
    part.problems.push_back(std::to_string(elsewhere) +
                            " pointer(s) not under the node's registered address were not followed");
  }
  return part;
}

}  // namespace

FanOutResult FanOut::Fetch(const std::vector<HolderRecords>& holders,
                           const std::vector<std::pair<std::string, std::string>>& headers) {
  FanOutResult result;
  std::vector<std::pair<const HolderRecords*, std::future<NodePart>>> asked;
  for (const auto& h : holders) {
    auto node = registry_.Find(h.ods);
    if (!node) {
      result.unanswered.push_back({h.ods, "not an active node in the node registry"});
      continue;
    }
    asked.emplace_back(&h, std::async(std::launch::async, AskNode, *node, std::cref(h),
                                      std::cref(headers), timeout_));
  }
  for (auto& [h, future] : asked) {
    NodePart part = future.get();
    for (auto& r : part.records) result.records.push_back(std::move(r));
    for (auto& p : part.problems) result.unanswered.push_back({h->ods, std::move(p)});
  }
  return result;
}

}  // namespace crs::federation
