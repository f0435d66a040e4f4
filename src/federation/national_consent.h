// A linked local node's view of its patients' consent decisions, which are
// recorded at the national node (docs/federation.md, "Consent on local
// nodes").
//
// Get() answers from a cache whose entries live `ttl`; a miss or an expired
// entry asks the national node (GET Consent?patient=<nhs> with this node's
// peer token) and decides with access::Decide, exactly as the national node
// does. A changed decision reaches the cache sooner than the TTL: a
// background thread asks the national node every `poll` for the Consents
// written since its last look (Consent?_lastUpdated=ge...) and forgets the
// cached state of every patient named, so a dissent recorded nationally is
// honoured here within about `poll` while the national node is reachable,
// and within `ttl` at worst.
//
// Failing closed: when the national node cannot be asked and the entry has
// expired, Get() returns Unavailable; a stale state is never served, and
// this node's own Consent resources are not consulted (they may lack the
// patient's latest decision). After a failed call, misses fail at once for
// `retry_after` (the poller's next success ends that sooner), so a hung
// national node costs one timeout, not one per request.
//
// Thread safety: Get() and stats() may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "access/consent.h"
#include "federation/node_token.h"
#include "access/keys.h"
#include "core/status.h"
#include "core/time.h"
#include "http/client.h"

namespace crs::federation {

struct NationalConsentOptions {
  std::string ods;           // this node's organisation (ODS code)
  std::string national_url;  // the national node's FHIR base URL
  std::string audience = "urn:opencrs:fhir";
  std::chrono::seconds ttl{60};  // 0: every check asks the national node
  std::chrono::milliseconds poll{1000};
  std::chrono::milliseconds timeout{2000};  // per call to the national node
  std::chrono::milliseconds retry_after{1000};
};

struct NationalConsentStats {
  int64_t hits = 0;       // answered from the cache
  int64_t fetches = 0;    // asked the national node
  int64_t failures = 0;   // could not ask it (answered Unavailable)
  int64_t refreshed = 0;  // cached states forgotten because a decision changed
};

class NationalConsent {
 public:
  // Starts the change poller. `clock` must outlive the object.
  static Result<std::unique_ptr<NationalConsent>> Start(const access::NodeKey& key,
                                                        const Clock& clock,
                                                        NationalConsentOptions options);
  ~NationalConsent();

  // The patient's current consent state; Unavailable when it cannot be
  // known (see above).
  Result<access::ConsentState> Get(std::string_view patient);

  NationalConsentStats stats() const;

 private:
  NationalConsent(const access::NodeKey& key, const Clock& clock, NationalConsentOptions options);
  Result<access::ConsentState> Fetch(const std::string& patient);
  // A GET to the national node with this node's token, on a pooled client.
  Result<http::ClientResponse> Ask(const std::string& target);
  std::string Token();
  void PollLoop();
  Status PollOnce();

  const Clock& clock_;
  const NationalConsentOptions options_;

  struct Entry {
    access::ConsentState state;
    int64_t fetched_ms = 0;
  };
  // Lock order: mu_ before nothing; pool_mu_ is a leaf.
  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> cache_;  // GUARDED_BY(mu_)
  uint64_t epoch_ = 0;          // GUARDED_BY(mu_): bumped whenever states are forgotten
  NationalConsentStats stats_;  // GUARDED_BY(mu_)
  bool stopping_ = false;       // GUARDED_BY(mu_)
  // After a failed call, misses fail at once until then (ms), so a hung
  // national node cannot tie up this node's worker threads.
  int64_t down_until_ms_ = 0;  // GUARDED_BY(mu_)
  std::condition_variable cv_;
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<http::Client>> pool_;  // GUARDED_BY(pool_mu_)
  NodeToken token_;
  std::string watermark_;        // poller thread only: FHIR instant of the last look
  std::thread poller_;
};

}  // namespace crs::federation
