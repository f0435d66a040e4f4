// GP2GP record transfer between practices (docs/federation.md, "GP2GP").
//
// When a patient registers at a new practice, the new practice's node
// (Request) records a transfer ("in", state requested) and its thread
// drives it:
//   1. registers the patient with this practice at the national node
//      (POST {national}/Patient/<nhs>/$register), the precondition the old
//      practice checks and the one that lets this practice take over the
//      old practice's pointers;
//   2. fetches the record from the old practice's node, found in the
//      national node registry, chunk by chunk
//      (GET {old}/Patient/<nhs>/$gp2gp-release?transfer=<id>&chunk=<k>),
//      and commits each chunk here as one transaction Bundle under
//      X-Request-ID "<id>-chunk-<k>" before recording that it has it — so a
//      restart of either side re-fetches and re-applies at most the chunk in
//      flight, which the idempotency key makes a no-op;
//   3. once every chunk is in and the count matches the old practice's
//      manifest, the transfer is accepted; a chunk this node refuses rejects
//      it; either outcome is sent to the old practice
//      (POST {old}/Patient/<nhs>/$gp2gp-ack) until it acknowledges.
// Unreachable or failing peers are retried with exponential back-off and
// equal jitter; a transfer not complete within `transfer_timeout` fails
// with the reason and the last error, and the old practice is told.
//
// The old practice's node (Release, Acknowledge) releases a record only to
// a node whose practice the national node records as the patient's
// registered practice, and only once its own pointers for the patient have
// reached the national node (so the new practice's pointers find them to
// replace). Its first release fixes the manifest (transfer_log.h); items
// sealed and locked (V) by their author stay with it and are counted as
// withheld. A transfer with no acknowledgement for `transfer_timeout`
// after its last activity fails there with that reason.
//
// Thread safety: Request/Release/Acknowledge/Of may be called from any
// thread; Start and the destructor from one.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/fwd.hpp>

#include "access/keys.h"
#include "core/status.h"
#include "core/time.h"
#include "federation/node_token.h"
#include "federation/outbox.h"
#include "federation/peer_directory.h"
#include "federation/transfer_log.h"
#include "http/client.h"
#include "store/store.h"

namespace crs::federation {

struct TransferOptions {
  std::string ods;           // this practice's ODS code
  std::string national_url;  // the national node's FHIR base URL
  std::string audience = "urn:opencrs:fhir";
  std::chrono::seconds transfer_timeout{600};
  int chunk = 1000;          // records per chunk (old practice)
  std::chrono::milliseconds call_timeout{30000};
  std::chrono::milliseconds poll{200};
  std::chrono::milliseconds max_backoff{30000};
};

class Transfers {
 public:
  // Commits a transaction Bundle (JSON) on this node as its own service
  // under X-Request-ID `key`: OK when committed now or before under that
  // key, Unavailable when worth retrying, another code when refused.
  using Apply = std::function<Status(const std::string& bundle, const std::string& key)>;

  // Starts the transfer thread. Everything passed by reference must outlive it.
  static Result<std::unique_ptr<Transfers>> Start(store::Store& store, TransferLog& log,
                                                  Outbox* outbox, PeerDirectory& peers,
                                                  const access::NodeKey& key, const Clock& clock,
                                                  TransferOptions options, Apply apply);
  ~Transfers();

  // New practice: starts a transfer of `nhs`'s record from practice
  // `from`. Conflict (naming it) when one from that practice is under way.
  Result<Transfer> Request(const std::string& nhs, const std::string& from);
  // Old practice: chunk `chunk` of transfer `id` for practice `to`, as a
  // Parameters resource (JSON): total, chunks, withheld, chunk, bundle.
  // Forbidden when the patient is not registered with `to` nationally or
  // the transfer is another's; Unavailable when the national node cannot
  // be asked or the patient's pointers are still being published; Gone
  // when the transfer has failed here (the reason in the message).
  Result<std::string> Release(const std::string& to, const std::string& nhs,
                              const std::string& id, int64_t chunk);
  // Old practice: the new practice's outcome (accepted|rejected|failed).
  Status Acknowledge(const std::string& from, const std::string& nhs, const std::string& id,
                     const std::string& outcome, const std::string& reason);
  // The transfers of one patient on this node, oldest first.
  Result<std::vector<Transfer>> Of(const std::string& nhs);

 private:
  Transfers(store::Store& store, TransferLog& log, Outbox* outbox, PeerDirectory& peers,
            const access::NodeKey& key, const Clock& clock, TransferOptions options, Apply apply,
            std::unique_ptr<http::Client> national);
  void Run();
  // One step of a transfer; true when it made progress.
  bool Step(Transfer& t);
  bool StepIn(Transfer& t);
  bool StepOut(Transfer& t);
  bool Notify(Transfer& t);
  // Conflict when an entry of `bundle` would overwrite a resource here that
  // did not come from practice `from`.
  Status NoCollision(const boost::json::value& bundle, const std::string& from);
  // Records a transient failure and when to try again.
  void Later(Transfer& t, const std::string& error);
  void Finish(Transfer& t, const std::string& state, const std::string& reason);
  Result<std::vector<TransferItem>> Manifest(const std::string& nhs, int64_t* withheld);
  Status CheckRegistered(const std::string& nhs, const std::string& to);
  Status PointersPublished(const std::string& nhs);
  Result<http::ClientResponse> Call(const std::string& base, const std::string& method,
                                    const std::string& target, const std::string& body);

  store::Store& store_;
  TransferLog& log_;
  Outbox* outbox_;
  PeerDirectory& peers_;
  const Clock& clock_;
  const TransferOptions options_;
  const Apply apply_;
  NodeToken token_;
  std::mutex release_mu_;  // serialises first releases (manifest creation)
  std::unique_ptr<http::Client> national_;  // the transfer thread only
  std::map<std::string, int64_t> retry_at_;  // the transfer thread only: by transfer id
  std::map<std::string, int> failures_;      // the transfer thread only: consecutive, by id

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace crs::federation
