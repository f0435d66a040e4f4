#include "import/reindex.h"

#include <algorithm>
#include <boost/json.hpp>
#include <future>
#include <memory>
#include <utility>

#include "access/facts.h"
#include "audit/record.h"
#include "fhir/index/extract.h"
#include "fhir/index/fulltext.h"
#include "fhir/index/trace_keys.h"

namespace crs::import {
namespace {

namespace json = boost::json;

// Stored bodies were validated when written; this only bounds the parser.
constexpr unsigned kMaxDepth = 256;

struct Prepared {
  std::vector<store::Write> writes;
  int64_t unindexed = 0;
  Status status = Status::Ok();
};

// The kReindex writes for `matches[begin, end)`.
// With `fulltext`, also the full-text rows.
Prepared Prepare(const std::vector<store::SearchMatch>& matches, size_t begin, size_t end,
                 bool fulltext, bool trace_keys) {
  Prepared out;
  out.writes.reserve(end - begin);
  json::parse_options opts;
  opts.max_depth = kMaxDepth;
  for (size_t i = begin; i < end; ++i) {
    const store::SearchMatch& m = matches[i];
    std::error_code ec;
    json::value resource = json::parse(m.body, ec, {}, opts);
    if (ec || !resource.is_object()) {
      out.status = Status::Internal("the stored body of " + m.type + "/" + m.id +
                                    " does not parse: " + ec.message());
      return out;
    }
    store::Write w;
    w.type = m.type;
    w.id = m.id;
    w.expected_version = m.version;
    w.method = store::Method::kReindex;
    auto entries = fhir::index::ExtractIndex(resource);
    if (entries.ok()) {
      if (fulltext) entries->fulltext = fhir::index::ExtractFullText(resource);
      if (trace_keys) fhir::index::AddTraceKeys(resource, &*entries);
      w.index = std::make_shared<const fhir::index::IndexEntries>(std::move(*entries));
    } else {
      ++out.unindexed;  // as a write stores it: unindexed rather than refused
    }
    w.access = std::make_shared<const store::AccessFacts>(
        access::ComputeFacts(m.type, m.id, resource, w.index.get(), m.author_org));
    out.writes.push_back(std::move(w));
  }
  return out;
}

// Prepares a page on two threads (extraction is the costly part).
Prepared PreparePage(const std::vector<store::SearchMatch>& matches, bool fulltext,
                     bool trace_keys) {
  size_t half = matches.size() / 2;
  if (half < 64) return Prepare(matches, 0, matches.size(), fulltext, trace_keys);
  auto second = std::async(std::launch::async, Prepare, std::cref(matches), half, matches.size(),
                           fulltext, trace_keys);
  Prepared out = Prepare(matches, 0, half, fulltext, trace_keys);
  Prepared rest = second.get();
  if (!rest.status.ok() && out.status.ok()) out.status = rest.status;
  out.unindexed += rest.unindexed;
  for (auto& w : rest.writes) out.writes.push_back(std::move(w));
  return out;
}

audit::AuditRecord BatchRecord(const Clock& clock, const ReindexOptions& options, int64_t batch,
                               int64_t first_rid, int64_t last_rid, size_t count) {
  audit::AuditRecord r;
  r.time_ms = clock.NowMs();
  r.request_id = options.run_id + "-" + std::to_string(batch);
  r.user = "crs-reindex";
  r.user_name = "crs reindex";
  r.role = "system";
  r.action = "reindex";
  r.status = 200;
  // What was processed, without naming anyone: the storage range and size.
  std::string types;
  for (const auto& t : options.types) types += (types.empty() ? "" : ",") + t;
  r.query = "_type=" + types + "&rid=" + std::to_string(first_rid) + "-" +
            std::to_string(last_rid) + "&count=" + std::to_string(count);
  return r;
}

}  // namespace

Result<ReindexProgress> Reindex(store::Store& store, const Clock& clock,
                                const ReindexOptions& options,
                                const std::function<void(const ReindexProgress&)>& progress,
                                const std::atomic<bool>* stop) {
  ReindexProgress p;
  bool stopped = false;
  store::SearchQuery q;
  q.types = options.types;  // a system-level scan: no predicates, storage order
  q.count = std::max(1, options.batch_size);
  // The commit of one batch overlaps the reading and preparing of the next.
  std::future<Status> committing;
  std::unique_ptr<store::WriteBatch> in_flight;
  auto finish_commit = [&]() -> Status {
    if (!committing.valid()) return Status::Ok();
    Status st = committing.get();
    in_flight.reset();
    return st;
  };
  while (true) {
    if (stop != nullptr && stop->load()) {
      stopped = true;
      break;
    }
    q.after_rid = p.last_rid;
    auto page = store.Search(q);
    if (!page.ok()) {
      (void)finish_commit();
      return page.status();
    }
    if (page->matches.empty()) break;
    Prepared prepared = PreparePage(page->matches, store.KeepsFullText(), store.KeepsTraceKeys());
    if (!prepared.status.ok()) {
      (void)finish_commit();
      return prepared.status;
    }
    CRS_RETURN_IF_ERROR(finish_commit());
    if (p.batches > 0 && progress) progress(p);
    auto batch = std::make_unique<store::WriteBatch>();
    batch->writes = std::move(prepared.writes);
    int64_t first_rid = page->matches.front().rid, last_rid = page->matches.back().rid;
    batch->audit.push_back(audit::ToAuditInput(BatchRecord(
        clock, options, p.batches + 1, first_rid, last_rid, batch->writes.size())));
    in_flight = std::move(batch);
    store::WriteBatch* b = in_flight.get();
    committing = std::async(std::launch::async, [&store, b] { return store.Commit(*b).status(); });
    p.resources += static_cast<int64_t>(page->matches.size());
    p.unindexed += prepared.unindexed;
    p.batches += 1;
    p.last_rid = last_rid;
    if (page->next_after_rid == 0) break;
  }
  CRS_RETURN_IF_ERROR(finish_commit());
  if (p.batches > 0 && progress) progress(p);
  // Every current resource now has its full-text rows (docs/storage.md,
  // "Full-text index"): nodes started with --fulltext may use the store.
  if (!stopped && options.types.empty() && store.KeepsFullText()) {
    CRS_RETURN_IF_ERROR(store.MarkFullTextComplete());
  }
  // Every Patient now has its trace keys (fhir/index/trace_keys.h; with
  // --trace-keys: without, the store marked them incomplete at open).
  bool patients = options.types.empty() ||
                  std::find(options.types.begin(), options.types.end(), "Patient") !=
                      options.types.end();
  if (!stopped && patients && store.KeepsTraceKeys() && !store.TraceKeysComplete()) {
    CRS_RETURN_IF_ERROR(store.MarkTraceKeysComplete());
  }
  return p;
}

}  // namespace crs::import
