// The pointer publisher of a local node (docs/federation.md): follows the
// store's change feed and keeps the national record locator's pointers in
// step with the records this node holds.
//
// Delivery is at-least-once on the wire and exactly-once in effect:
//   - the feed cursor (Outbox) advances only after the national node has
//     acknowledged a batch, so nothing is skipped across crashes;
//   - a batch is one transaction Bundle of PUTs/DELETEs of producer-namespaced
//     pointer ids, sent with X-Request-ID "<ODS>-pointers-<first seq>-<last
//     seq>"; the batch's extent is recorded before it is sent, so a retry,
//     even after a restart of either node, sends the same batch under the
//     same key and the national node answers it from its first commit;
//   - a batch the national node refuses (4xx) is sent entry by entry, and an
//     entry refused on its own goes to the dead-letter list;
//   - when the national node is unreachable or failing (5xx, 408, 429), the
//     same batch is retried with exponential back-off and full jitter
//     (100 ms doubling to `max_backoff`), while this node keeps serving.
//
// With upload_summaries, the same thread keeps the patients' Summary Care
// Records at the national node in step with the practice's allergies and
// medication (feed "summaries"): for each patient whose items changed it asks
// the national node for the patient's consent state, sends nothing when it
// withholds the summary, and otherwise uploads the summary document
// (federation/gp_summary.h) with X-Request-ID "<ODS>-scr-<nhs>-<last seq>".
//
// The same thread forwards this node's audit records that concern patients
// to the national node (POST AuditEvent/$forward, feed "audit"), so the
// patient's access log there shows accesses on every node; the national
// node keeps a per-node high-water mark, so a retry appends nothing twice.
//
// Thread safety: Start/stop from one thread; stats() from any.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "access/consent.h"
#include "access/keys.h"
#include "access/sensitive.h"
#include "core/status.h"
#include "core/time.h"
#include "federation/node_token.h"
#include "federation/outbox.h"
#include "http/client.h"
#include "store/store.h"

namespace crs::federation {

struct PublisherOptions {
  std::string ods;           // this node's organisation (ODS code)
  std::string local_base;    // this node's FHIR base URL, for attachment URLs
  std::string national_url;  // the national node's FHIR base URL
  std::string audience = "urn:opencrs:fhir";
  int batch = 500;           // store versions read per batch
  std::chrono::milliseconds poll{100};
  std::chrono::milliseconds timeout{10000};
  std::chrono::milliseconds max_backoff{30000};
  // A GP practice's node also uploads its patients' summaries on change
  // (feed "summaries"), unless the national node's consent state withholds
  // them; sensitive items never leave the practice.
  bool upload_summaries = false;
  access::SensitiveCodes sensitive = access::SensitiveCodes::Default();
  access::ConsentModel consent_model = access::ConsentModel::kImplied;
};

struct PublisherStats {
  int64_t cursor = 0;          // last store seq delivered
  int64_t published = 0;       // pointer operations acknowledged since start
  int64_t audit_cursor = 0;    // last audit seq forwarded
  int64_t audit_forwarded = 0; // audit records acknowledged since start
  int64_t summaries_uploaded = 0;
  int64_t summaries_withheld = 0;  // not sent: the patient's consent withholds them
  int64_t dead = 0;            // entries sent to the dead-letter list since start
  int64_t failed_attempts = 0; // transient failures since start
  std::string last_error;      // the latest transient failure ("" when none yet)
};

class Publisher {
 public:
  // Starts the publishing thread. `store`, `outbox`, `clock` must outlive it.
  static Result<std::unique_ptr<Publisher>> Start(store::Store& store, Outbox& outbox,
                                                  const access::NodeKey& key, const Clock& clock,
                                                  PublisherOptions options);
  // Stops the thread (an in-flight call is abandoned at its timeout).
  ~Publisher();

  PublisherStats stats() const;

 private:
  Publisher(store::Store& store, Outbox& outbox, const access::NodeKey& key, const Clock& clock,
            PublisherOptions options, std::unique_ptr<http::Client> client);
  void Run();
  struct Op;
  // Sends a batch; OK when acknowledged, Unavailable when worth retrying,
  // another code when refused.
  Status SendBatch(const std::vector<Op>& ops, const std::string& key);
  Status SendOne(const Op& op);
  Status Classify(const Result<http::ClientResponse>& r);
  std::string Token();
  int64_t BackoffMs(int attempt) const;
  void Backoff(int attempt);  // sleeps BackoffMs(attempt)
  bool Sleep(std::chrono::milliseconds d);  // false when stopping
  void DrainReplays();
  // One round of audit forwarding: true when it made progress.
  bool ForwardAudit();
  // One round of summary uploads: true when it made progress.
  bool UploadSummaries();
  // The patient's consent state at the national node.
  Result<access::ConsentState> NationalConsent(const std::string& nhs);
  void Later(int* failures, int64_t* retry_at_ms);

  store::Store& store_;
  Outbox& outbox_;
  const Clock& clock_;
  const PublisherOptions options_;
  std::unique_ptr<http::Client> client_;
  NodeToken token_;
  int audit_failures_ = 0;
  int64_t audit_retry_at_ms_ = 0;
  int summary_failures_ = 0;
  int64_t summary_retry_at_ms_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  PublisherStats stats_;
  std::thread thread_;
};

}  // namespace crs::federation
