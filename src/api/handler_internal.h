// Internals shared by the API's .cc files: the per-request context and the
// handlers for each interaction family. Not part of the API's public surface.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "api/api.h"
#include "api/interactions.h"
#include "api/nhs_allocator.h"
#include "api/search.h"
#include "audit/record.h"
#include "http/request.h"

namespace crs::api {

struct Entry;  // a batch/transaction entry (bundle.cc)

enum class PreferReturn { kRepresentation, kMinimal, kOperationOutcome };

// What a request touched, for its audit record.
struct AuditTrail {
  std::string action;  // read, vread, search, history, create, ...
  std::string type;
  std::string id;
  std::set<std::string> patients;   // patients whose data was returned or changed
  std::vector<std::string> resources;  // Type/id of what was returned or changed
  std::set<std::string> alerts;     // alert codes for the privacy officer
  bool denied = false;   // access was refused (even when answered as "not found")
  bool audited = false;  // the record already rode in the request's write batch
  // A patient's consent state was needed and could not be obtained from the
  // national node (linked local nodes): a read is answered 503.
  bool consent_unavailable = false;
  int64_t reviews = 0;   // alert-review: the alert's seq
  std::string review_outcome;  // alert-review: the officer's conclusion
  int64_t reports = 0;   // patient-report: the seq of the access reported
  std::string note;      // alert-review, patient-report: free text
  // Whose privacy officer the alerts go to and about whom (empty: the
  // caller's organisation, the caller).
  audit::AlertRouting alert_to;
};

// What a routed request leaves behind for its audit record.
struct RouteInfo {
  bool is_fhir = false;  // a /fhir request (service endpoints are not audited)
  bool audited_outside_fhir = false;  // a demo token request: audited too
  std::shared_ptr<access::Caller> caller;
  AuditTrail trail;
};

struct RequestContext {
  const http::Request& request;
  std::string base;  // absolute FHIR base URL, no trailing slash
  PreferReturn prefer_return = PreferReturn::kRepresentation;
  bool strict = false;  // Prefer: handling=strict
  std::vector<std::pair<std::string, std::string>> params;  // decoded query parameters
  // The authenticated caller; null only when access control is off (ApiOptions).
  std::shared_ptr<access::Caller> caller;
  AuditTrail trail;
  // The response may be held (http::Response::hold) until a write commits:
  // true only for a request the HTTP server answers, never for a bundle's
  // entries or another internal dispatch, whose callers read the response
  // at once.
  bool may_defer = false;
};

struct Counters {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> status_2xx{0}, status_3xx{0}, status_4xx{0}, status_5xx{0};
  std::atomic<uint64_t> writes{0}, conflicts_retried{0};
};

class FhirApi {
 public:
  FhirApi(store::Store& store, const Clock& clock, const ApiOptions& options)
      : store_(store), clock_(clock), options_(options),
        nhs_numbers_(store, options.nhs_number_range) {}
  // Waits for the deferred commits still in flight (CommitOne).
  ~FhirApi();

  Env env(const RequestContext& ctx) {
    return Env{store_, clock_, options_.max_json_depth, ctx.caller ? ctx.caller->org : "",
               &nhs_numbers_, options_.search_index};
  }

  // Access control (api/access.cc); all are no-ops when ctx.caller is null.
  // Type-level permission ('r','s','c','u','d').
  Status Allow(RequestContext& ctx, std::string_view type, char interaction);
  // The filter searches, history and compartments carry into the store.
  std::shared_ptr<const store::AccessFilter> FilterOf(RequestContext& ctx, char interaction);
  // Whether the caller may see one resource with `facts`; when it may, the
  // access is recorded in ctx.trail (patient, alerts).
  bool See(RequestContext& ctx, std::string_view type, std::string_view id,
           const store::AccessFacts& facts, char interaction);
  // A prepared write: the version it replaces must be visible (else NotFound,
  // as if absent) and what it writes must be within the caller's reach (else
  // Forbidden).
  Status CheckWrite(RequestContext& ctx, const Prepared& p, char interaction);
  // National node: a write making a superseded pointer anything but
  // superseded is a Conflict (api/access.cc).
  Status CheckSupersededStays(const Prepared& p);
  // National node (api/pointer_replace.cc): the writes that mark the
  // pointers a DocumentReference's relatesTo `replaces` as superseded, to
  // commit in the same batch as `p`. Unprocessable when a replaced pointer
  // does not exist, Forbidden unless the writer is its custodian or the
  // patient's registered practice, Invalid for a malformed target or one
  // `also_written` by the same transaction.
  // GP2GP (api/transfer.cc): Patient/{nhs}/$gp2gp (new practice: start,
  // list), $gp2gp-release and $gp2gp-ack (old practice; peer nodes only),
  // $register (national node; peer nodes register their own practice).
  void Gp2gp(RequestContext& ctx, std::string_view nhs, std::string_view op, http::Response* out);
  void Register(RequestContext& ctx, std::string_view nhs, http::Response* out);
  // The write registering `nhs` with practice `org` alone (none when it is
  // already); NotFound when the patient is not held here.
  Result<Prepared> PrepareRegistration(RequestContext& ctx, const std::string& nhs,
                                       const std::string& org);
  Status Supersede(RequestContext& ctx, const Prepared& p,
                   const std::set<std::pair<std::string, std::string>>& also_written,
                   std::vector<store::Write>* writes);
  // Linked local nodes: whether the caller is a national user of another
  // organisation, whose view of patient data the national consent state
  // decides (api/access.cc).
  bool SharedBeyondHolder(const access::Caller& caller) const;
  // Whether the patient's consent lets this node share their data with the
  // caller; when the state cannot be obtained, false and
  // ctx.trail.consent_unavailable.
  bool ConsentShares(RequestContext& ctx, std::string_view patient);
  // Narrows a read filter to the named patients the caller may reach and
  // whose consent allows sharing with it.
  void NarrowToConsented(RequestContext& ctx, store::AccessFilter* filter);
  // Consent (api/consent.cc). A patient's current consent decisions.
  Result<access::ConsentState> ConsentOf(std::string_view patient);
  // Refuses a write of summary data the patient's consent withholds.
  Status CheckConsent(RequestContext& ctx, const Prepared& p);
  // After a committed write: a Consent that withholds the summary purges it;
  // summary data that raced with such a Consent is purged too.
  Status AfterCommit(RequestContext& ctx, const Prepared& p);
  // Whether AfterCommit may have work to do for `p`.
  bool HasAfterCommit(const Prepared& p) const;
  // Audit (api/audit.cc). The record of a request, as it stands.
  audit::AuditRecord MakeAuditRecord(const http::Request& request, const access::Caller* caller,
                                     const AuditTrail& trail, int status);
  // Adds the "volume" and "vip" alerts a trail deserves.
  void AddPatternAlerts(const access::Caller& caller, AuditTrail* trail);
  // GET /fhir/AuditEvent..., POST /fhir/AuditEvent/{seq}/$review.
  void AuditEvents(RequestContext& ctx, const std::vector<std::string_view>& parts,
                   http::Response* out);
  // POST /fhir/AuditEvent/$forward: a peer node's audit records join this
  // node's log, so a patient's access log covers every node.
  void ForwardedAudit(RequestContext& ctx, http::Response* out);
  // POST /fhir/AuditEvent/{seq}/$review (privacy officers), .../$report
  // (patients), GET /fhir/AuditEvent/$verify (api/audit_review.cc).
  void ReviewAlert(RequestContext& ctx, std::string_view seq, http::Response* out);
  void ReportAccess(RequestContext& ctx, std::string_view seq, http::Response* out);
  void VerifyAudit(RequestContext& ctx, http::Response* out);
  // Whether a patient's record is flagged VIP/staff (CEL, EMP on the
  // Patient): every access to any of their data alerts the privacy officer.
  bool IsVipPatient(const std::string& patient);
  // Keeps the VIP set current after a committed Patient write.
  void NoteVip(const Prepared& p);
  // The body of a resource as `ctx`'s caller may see it: a restricted
  // Patient loses its contact details (api/demographics.h). AppendShown
  // appends it to `out` (no copy when nothing is withheld).
  std::string Shown(const RequestContext& ctx, std::string_view type, std::string_view patient,
                    uint32_t labels, std::string body);
  void AppendShown(const RequestContext& ctx, std::string_view type, std::string_view patient,
                   uint32_t labels, const std::string& body, std::string* out);
  // AppendShown, then subset for _summary/_elements (api/subset.h): a
  // match takes both, an included resource only _summary.
  void AppendSubset(const RequestContext& ctx, std::string_view type, const store::SearchMatch& m,
                    const Subsetting& subset, bool match, std::string* out);
  // The opening of a keyset-paged searchset Bundle up to and including its
  // links: `self` is the first page's URL; `cursor` (0: first page) and
  // `next_cursor` (0: last page) are appended as _cursor. The total is given
  // when this page is the only one. Entries follow; the caller closes it.
  std::string BeginPagedSearchset(const std::string& self, int64_t cursor, int64_t next_cursor,
                                  size_t page_size);
  // Records the matches and includes of a search-like result in ctx.trail.
  void Saw(RequestContext& ctx, const store::SearchResult& result, std::string_view match_type);
  // Runs a request through the full router (used for batch entries and the
  // GETs of a transaction); what the entry touched is added to `trail`, so
  // the Bundle's audit record covers its entries. Set once by the handler.
  std::function<void(const http::Request&, http::Response*, AuditTrail* trail)> dispatch;
  // Handles a request from the start, as the server would, without holding
  // its response (the audit hold included): for a deferred create that must
  // be redone (CommitDeferred). Set once by the handler.
  std::function<void(const http::Request&, http::Response*)> redo;
  // Whether a POST creating a `type` may be answered without its thread
  // waiting for the commit (no consent work after it on this node).
  bool CreateMayDefer(std::string_view type) const;
  store::Store& store() { return store_; }
  const ApiOptions& options() const { return options_; }
  Counters& counters() { return counters_; }

  // Interaction handlers; each fills `out` completely (status, headers, body).
  void Read(RequestContext& ctx, std::string_view type, std::string_view id, http::Response* out);
  void VRead(RequestContext& ctx, std::string_view type, std::string_view id,
             std::string_view vid, http::Response* out);
  void Create(RequestContext& ctx, std::string_view type, http::Response* out);
  void Update(RequestContext& ctx, std::string_view type, std::string_view id,
              http::Response* out);
  void Delete(RequestContext& ctx, std::string_view type, std::string_view id,
              http::Response* out);
  void Patch(RequestContext& ctx, std::string_view type, std::string_view id,
             http::Response* out);
  void History(RequestContext& ctx, const std::string* type, const std::string* id,
               http::Response* out);
  void Bundle(RequestContext& ctx, http::Response* out);
  void Everything(RequestContext& ctx, std::string_view type, std::string_view id,
                  http::Response* out);
  // The federated part of $everything?_federated=true (national node): the
  // records the caller's visible pointers name, fetched from their holders
  // with the caller's credentials through options().fan_out; noted in
  // ctx.trail. With `types` (from _type), only records of those types.
  Result<FederatedRecords> Federate(RequestContext& ctx, std::string_view patient,
                                    const std::vector<std::string>& types);
  void Search(RequestContext& ctx, std::string_view type,
              const std::vector<std::pair<std::string, std::string>>& params,
              http::Response* out);
  // System-level search (GET /fhir?..., POST /fhir/_search): across the
  // types `_type` lists, or every type the caller may search.
  void SystemSearch(RequestContext& ctx,
                    const std::vector<std::pair<std::string, std::string>>& params,
                    http::Response* out);
  // Runs a parsed search and answers its searchset Bundle; `path` is the
  // search's URL before "?" and `link_params` what the links carry besides
  // the parsed parameters (system search: _type).
  void RespondSearch(RequestContext& ctx, ParsedSearch& parsed, const std::string& path,
                     const std::string& link_params, http::Response* out);
  // A PDS patient trace (api/trace.cc, docs/trace.md): a Patient search
  // that IsTraceSearch() recognises.
  void Trace(RequestContext& ctx, const std::vector<std::pair<std::string, std::string>>& params,
             http::Response* out);
  // Ids of the (at most two) resources of `type` matching a conditional
  // operation's criteria (a query string), strictly parsed.
  Result<std::vector<std::string>> ConditionalMatches(RequestContext& ctx, std::string_view type,
                                                      std::string_view query);
  void ConditionalUpdate(RequestContext& ctx, std::string_view type, http::Response* out);
  void ConditionalDelete(RequestContext& ctx, std::string_view type, http::Response* out);
  // Runs a transaction's entries; fills one response entry (JSON text) per
  // entry. Any failure fails the whole transaction with nothing written.
  Status Transaction(RequestContext& ctx, std::vector<Entry>& entries,
                     std::vector<std::string>* results);
  void Capabilities(RequestContext& ctx, http::Response* out);
  // The Summary Care Record (api/summary.cc, docs/summary.md).
  // POST /fhir/Bundle: a document Bundle is a summary upload; any other
  // Bundle is created as a plain resource.
  void PostBundle(RequestContext& ctx, http::Response* out);
  void UploadSummary(RequestContext& ctx, const boost::json::value& upload, http::Response* out);
  // GET /fhir/Patient/{nhs}/$summary.
  void Summary(RequestContext& ctx, std::string_view nhs, http::Response* out);
  // GET /fhir/DocumentReference?patient=<nhs>: whether a summary exists and
  // the patient's consent state, without content.
  void SummaryIndex(RequestContext& ctx, std::string_view nhs, http::Response* out);
  // Erases a patient's summary document and its Provenance (every version)
  // in `purge`, noting them in `trail`.
  Status PurgeSummaryDocument(const std::string& patient, store::WriteBatch* purge,
                              AuditTrail* trail);

  // Commits a single prepared write (retrying on a concurrent-write conflict
  // via `prepare`) and writes the standard response.
  template <typename PrepareFn>
  void CommitOne(RequestContext& ctx, char interaction, PrepareFn prepare, bool has_if_match,
                 http::Response* out);

  // Commits `batch` without holding the thread, the response `out` (already
  // written for success) held until it is durable; see CommitOne.
  void CommitDeferred(RequestContext& ctx, store::WriteBatch batch, const Prepared& p,
                      http::Response* out);
  // Writes the response for a committed (or no-op) write.
  void WriteResult(RequestContext& ctx, const Prepared& p, http::Response* out);
  // What a retried request's first attempt wrote, as a Prepared write.
  Result<Prepared> ReplayedWrite(const store::VersionRef& ref);
  // Answers a retried request (same X-Request-ID) from what its first attempt wrote.
  void ReplayResult(RequestContext& ctx, const store::CommitResult& committed,
                    http::Response* out);

 private:
  store::Store& store_;
  const Clock& clock_;
  const ApiOptions options_;
  NhsNumberAllocator nhs_numbers_;
  Counters counters_;
  // Distinct patients each user opened in the current hour ("volume" alerts).
  struct Volume {
    int64_t hour = 0;
    std::set<std::string> patients;
    bool alerted = false;
  };
  std::mutex vip_mu_;
  bool vip_loaded_ = false;          // GUARDED_BY(vip_mu_)
  std::set<std::string> vip_;        // GUARDED_BY(vip_mu_)
  std::mutex volume_mu_;
  std::map<std::string, Volume> volume_;  // GUARDED_BY(volume_mu_)
  // Deferred commits whose callback has not finished (CommitDeferred).
  std::mutex deferred_mu_;
  std::condition_variable deferred_cv_;
  int deferred_ = 0;  // GUARDED_BY(deferred_mu_)
};

// Whether the current Patient/<patient> in `store` names `org` in
// generalPractitioner (reference Organization/<org> or its ODS identifier).
bool RegisteredWith(store::Store& store, const std::string& patient, const std::string& org);
// The ODS codes the current Patient/<patient>'s generalPractitioner names.
std::vector<std::string> RegisteredPractices(store::Store& store, const std::string& patient);

// Whether a search is a PDS trace: a Patient search with any of
// _fuzzy-match, _exact-match, _history or _max-results (api/trace.cc).
bool IsTraceSearch(std::string_view type,
                   const std::vector<std::pair<std::string, std::string>>& params);

// Parses the Prefer header into ctx.
void ParsePrefer(std::string_view prefer, RequestContext* ctx);

// Appends `s` to `out` as a JSON string literal (quoted, escaped).
void AppendJsonString(std::string_view s, std::string* out);

}  // namespace crs::api
