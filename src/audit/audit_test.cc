// The audit log end to end below HTTP: record format, signing keys,
// AuditEvent rendering, and verification of a real SQLite store — intact,
// tampered with through the sqlite3 API, and after kill -9.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <set>
#include <thread>

#include "audit/audit_event.h"
#include "audit/record.h"
#include "audit/signing.h"
#include "audit/verify.h"
#include "fhir/validator.h"
#include "store/audit_chain.h"
#include "store/store.h"

namespace crs::audit {
namespace {

namespace fs = std::filesystem;

std::string TempDir() {
  char tmpl[] = "/tmp/crs-audit-XXXXXX";
  return mkdtemp(tmpl);
}

AuditRecord SampleRead() {
  AuditRecord r;
  r.time_ms = 1763719445123;  // 2025-11-21T10:04:05.123Z
  r.request_id = "req-1";
  r.correlation_id = "corr-1";
  r.user = "555123456789";
  r.user_name = "Dr A \"Quote\" Smith";
  r.role = "R8000";
  r.org = "A81001";
  r.purpose = "ETREAT";
  r.justification = "unconscious in A&E";
  r.break_glass = true;
  r.action = "read";
  r.method = "GET";
  r.resource_type = "Patient";
  r.id = "9990000018";
  r.status = 200;
  r.patients = {"9990000018"};
  r.resources = {"Patient/9990000018/_history/3"};
  r.alerts = {std::string(kAlertBreakGlass)};
  return r;
}

TEST(AuditRecordTest, JsonIsStableCompactAndRoundTrips) {
  AuditRecord r = SampleRead();
  EXPECT_EQ(ToJson(r),
            R"({"v":1,"time":"2025-11-21T10:04:05.123Z","request":"req-1","correlation":"corr-1",)"
            R"("user":"555123456789","user_name":"Dr A \"Quote\" Smith","role":"R8000",)"
            R"("org":"A81001","purpose":"ETREAT","justification":"unconscious in A&E",)"
            R"("break_glass":true,"action":"read","method":"GET","type":"Patient",)"
            R"("id":"9990000018","status":200,"outcome":"allowed","patients":["9990000018"],)"
            R"("resources":["Patient/9990000018/_history/3"],"alerts":["break-glass"]})");
  auto back = FromJson(ToJson(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(ToJson(*back), ToJson(r));
  EXPECT_EQ(back->time_ms, r.time_ms);
  EXPECT_TRUE(back->break_glass);
  EXPECT_EQ(back->alerts, r.alerts);
}

TEST(AuditRecordTest, HostileStringsStayValidJson) {
  AuditRecord r;
  r.justification = "bad \xff\xfe utf8 \x01 and \xc3\xa9";
  r.outcome = AuditOutcome::kDenied;
  r.reviews = 7;
  std::string text = ToJson(r);
  auto back = FromJson(text);
  ASSERT_TRUE(back.ok()) << text;
  EXPECT_EQ(back->justification, "bad \xef\xbf\xbd\xef\xbf\xbd utf8 \x01 and \xc3\xa9");
  EXPECT_EQ(back->outcome, AuditOutcome::kDenied);
  EXPECT_EQ(back->reviews, 7);
  EXPECT_FALSE(FromJson("{}").ok());
  EXPECT_FALSE(FromJson("not json").ok());
  store::AuditInput in = ToAuditInput(r);
  EXPECT_EQ(in.reviews_alert, 7);
  EXPECT_TRUE(in.alert_org.empty());
  store::AuditInput alert = ToAuditInput(SampleRead());
  EXPECT_EQ(alert.alert_org, "A81001");
  EXPECT_EQ(alert.patients, std::vector<std::string>{"9990000018"});
}

TEST(AuditEventTest, RendersValidR4AuditEvents) {
  AuditRecord search;
  search.time_ms = 1000;
  search.user = "u1";
  search.role = "R8000";
  search.org = "A81001";
  search.purpose = "TREAT";
  search.action = "search";
  search.method = "GET";
  search.resource_type = "Observation";
  search.query = "patient=9990000018&code=1234";
  search.status = 200;
  search.patients = {"9990000018", "9990000026"};
  AuditRecord token_failure;
  token_failure.time_ms = 2000;
  token_failure.action = "token-failure";
  token_failure.status = 401;
  token_failure.outcome = AuditOutcome::kDenied;
  token_failure.request_id = "r-9";
  AuditRecord review;
  review.time_ms = 3000;
  review.user = "po";
  review.role = "R8003";
  review.org = "A81001";
  review.action = "alert-review";
  review.reviews = 12;
  AuditRecord error = SampleRead();
  error.outcome = AuditOutcome::kError;
  error.status = 503;
  for (const AuditRecord& r : {SampleRead(), search, token_failure, review, error}) {
    std::string text = RenderAuditEvent(42, r);
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(text, ec);
    ASSERT_FALSE(ec) << text;
    std::vector<fhir::Issue> issues;
    Status st = fhir::Validate(v, &issues);
    EXPECT_TRUE(st.ok()) << st.ToString() << "\n" << text;
    const auto& ev = v.as_object();
    EXPECT_EQ(ev.at("id").as_string(), "42");
    EXPECT_EQ(ev.at("agent").as_array()[0].as_object().at("requestor").as_bool(), true);
  }
  boost::json::value read = boost::json::parse(RenderAuditEvent(1, SampleRead()));
  EXPECT_EQ(read.at("action").as_string(), "R");
  EXPECT_EQ(read.at("outcome").as_string(), "0");
  EXPECT_EQ(read.at("recorded").as_string(), "2025-11-21T10:04:05.123Z");
  EXPECT_EQ(read.at("subtype").as_array()[0].at("code").as_string(), "read");
  EXPECT_EQ(read.at("subtype").as_array().size(), 1u);
  // An operation says which one; a backend service is not a person; a
  // patient's report carries the record it reports and the note.
  AuditRecord summary = SampleRead();
  summary.action = "summary";
  summary.role = "system";
  boost::json::value op = boost::json::parse(RenderAuditEvent(2, summary));
  EXPECT_EQ(op.at("subtype").as_array()[0].at("code").as_string(), "operation");
  EXPECT_EQ(op.at("subtype").as_array()[1].at("system").as_string(), "urn:opencrs:audit-action");
  EXPECT_EQ(op.at("subtype").as_array()[1].at("code").as_string(), "summary");
  EXPECT_EQ(
      op.at("agent").as_array()[0].at("type").at("coding").as_array()[0].at("code").as_string(),
      "dataprocessor");
  AuditRecord report = SampleRead();
  report.action = "patient-report";
  report.reports = 7;
  report.note = "not me";
  report.alerts = {"patient-reported"};
  std::string report_text = RenderAuditEvent(3, report);
  EXPECT_NE(report_text.find(R"({"type":"reports","valueString":"7"})"), std::string::npos)
      << report_text;
  EXPECT_NE(report_text.find(R"({"type":"note","valueString":"not me"})"), std::string::npos);
  auto parsed = FromJson(ToJson(report));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->reports, 7);
  EXPECT_EQ(parsed->note, "not me");
  const auto& agent = read.at("agent").as_array()[0];
  EXPECT_EQ(
      agent.at("purposeOfUse").as_array()[0].at("coding").as_array()[0].at("code").as_string(),
      "ETREAT");
  EXPECT_EQ(agent.at("purposeOfUse").as_array()[0].at("text").as_string(), "unconscious in A&E");
  EXPECT_EQ(read.at("agent").as_array()[1].at("who").at("identifier").at("value").as_string(),
            "A81001");
  const auto& patient = read.at("entity").as_array()[0];
  EXPECT_EQ(patient.at("what").at("reference").as_string(), "Patient/9990000018");
  std::string details = boost::json::serialize(patient.at("detail"));
  EXPECT_NE(details.find("break-glass"), std::string::npos);
  EXPECT_NE(details.find("unconscious in A&E"), std::string::npos);
  boost::json::value denied = boost::json::parse(RenderAuditEvent(2, token_failure));
  EXPECT_EQ(denied.at("outcome").as_string(), "4");
  store::StoredAudit garbage;
  garbage.record = "{";
  EXPECT_EQ(RenderAuditEvent(garbage).status().code(), Code::kInternal);
}

TEST(SigningKeyTest, CreatedOncePrivatelyAndVerifies) {
  std::string dir = TempDir();
  fs::create_directories(dir + "/keys");  // the JWT key may already live there
  auto key = SigningKey::LoadOrCreate(dir);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  struct stat st;
  ASSERT_EQ(stat((dir + "/keys/audit-ed25519.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat((dir + "/keys").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  auto again = SigningKey::LoadOrCreate(dir);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->public_key(), (*key)->public_key());
  EXPECT_EQ((*key)->key_id(), KeyIdOf((*key)->public_key()));
  std::string sig = (*key)->Sign("message");
  ASSERT_EQ(sig.size(), 64u);
  EXPECT_TRUE(VerifySignature((*key)->public_key(), "message", sig));
  EXPECT_FALSE(VerifySignature((*key)->public_key(), "messagE", sig));
  sig[3] ^= 1;
  EXPECT_FALSE(VerifySignature((*key)->public_key(), "message", sig));
  // A verifier without the private key trusts the .pub file.
  fs::remove(dir + "/keys/audit-ed25519.pem");
  auto pubs = LoadAuditPublicKeys(dir);
  ASSERT_TRUE(pubs.ok());
  EXPECT_EQ(*pubs, std::vector<std::string>{(*key)->public_key()});
  fs::remove_all(dir);
  EXPECT_EQ(LoadAuditPublicKeys(dir).status().code(), Code::kNotFound);
}

// A store with a signed audit log of 100 records appended 10 at a time,
// closed, ready to be tampered with.
class AuditVerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir();
    auto key = SigningKey::LoadOrCreate(dir_);
    ASSERT_TRUE(key.ok());
    key_ = *key;
    Open(/*sign=*/true);
    for (int call = 0; call < 10; ++call) {
      std::vector<store::AuditInput> records;
      for (int i = 0; i < 10; ++i) {
        AuditRecord r = SampleRead();
        r.request_id = "req-" + std::to_string(call * 10 + i + 1);
        records.push_back(ToAuditInput(r));
      }
      std::promise<Status> done;
      store_->AppendAudit(std::move(records), [&done](Status st) { done.set_value(st); });
      ASSERT_TRUE(done.get_future().get().ok());
    }
    store_.reset();  // a clean stop writes the final checkpoint
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

 public:  // for the table of tampering steps
  void Open(bool sign) {
    store::StoreOptions o;
    o.data_dir = dir_;
    if (sign) {
      o.audit_sign = [key = key_](std::string_view m) { return key->Sign(m); };
      o.audit_key_id = key_->key_id();
      o.audit_checkpoint_records = 25;
      o.audit_checkpoint_interval_ms = int64_t{1} << 50;  // by count only: deterministic
    }
    auto s = store::OpenStore(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  VerifyReport Verify(int64_t max_uncovered = -1, std::vector<std::string> keys = {}) {
    store_.reset();
    Open(/*sign=*/false);
    VerifyOptions o;
    o.public_keys = keys.empty() ? std::vector<std::string>{key_->public_key()} : keys;
    o.max_uncovered = max_uncovered;
    o.page_size = 7;  // exercise paging
    auto report = VerifyAuditLog(*store_, o);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    store_.reset();
    return report.ok() ? *report : VerifyReport{};
  }
  // Runs SQL against the closed database file, as an attacker with file access would.
  void Tamper(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ + "/crs-audit.db").c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "") << " in " << sql;
    sqlite3_free(err);
    sqlite3_close(db);
  }
  // Recomputes the stored hashes of seqs from..to, as a careful attacker would.
  void Rehash(int64_t from, int64_t to = INT64_MAX) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ + "/crs-audit.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* sel = nullptr;
    sqlite3_prepare_v2(db, "SELECT seq, record, hash FROM audit ORDER BY seq", -1, &sel, nullptr);
    std::string prev = store::AuditZeroHash();
    std::vector<std::pair<int64_t, std::string>> fixes;
    while (sqlite3_step(sel) == SQLITE_ROW) {
      int64_t seq = sqlite3_column_int64(sel, 0);
      std::string record(static_cast<const char*>(sqlite3_column_blob(sel, 1)),
                         sqlite3_column_bytes(sel, 1));
      std::string stored(static_cast<const char*>(sqlite3_column_blob(sel, 2)),
                         sqlite3_column_bytes(sel, 2));
      std::string hash =
          seq >= from && seq <= to ? store::AuditChainHash(prev, seq, record) : stored;
      if (hash != stored) fixes.emplace_back(seq, hash);
      prev = hash;
    }
    sqlite3_finalize(sel);
    sqlite3_stmt* upd = nullptr;
    sqlite3_prepare_v2(db, "UPDATE audit SET hash = ?1 WHERE seq = ?2", -1, &upd, nullptr);
    for (const auto& [seq, hash] : fixes) {
      sqlite3_bind_blob(upd, 1, hash.data(), static_cast<int>(hash.size()), SQLITE_TRANSIENT);
      sqlite3_bind_int64(upd, 2, seq);
      EXPECT_EQ(sqlite3_step(upd), SQLITE_DONE);
      sqlite3_reset(upd);
    }
    sqlite3_finalize(upd);
    sqlite3_close(db);
  }
  std::vector<int64_t> CheckpointSeqs() {
    store_.reset();
    Open(false);
    auto cps = store_->ScanAuditCheckpoints(0, 1000);
    store_.reset();
    std::vector<int64_t> out;
    for (const auto& c : *cps) out.push_back(c.seq);
    return out;
  }

  std::string dir_;
  std::shared_ptr<const SigningKey> key_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(AuditVerifyTest, IntactLogVerifies) {
  std::vector<int64_t> cps = CheckpointSeqs();
  ASSERT_GE(cps.size(), 3u);
  EXPECT_EQ(cps.back(), 100);  // the clean stop covered the tail
  VerifyReport r = Verify(/*max_uncovered=*/0);
  EXPECT_TRUE(r.intact) << r.reason;
  EXPECT_EQ(r.records, 100);
  EXPECT_EQ(r.checkpoints, static_cast<int64_t>(cps.size()));
  EXPECT_EQ(r.first_bad_seq, 0);
  EXPECT_EQ(r.uncovered, 0);
}

// Moves records 42.. up by one and puts a forged record at 42.
constexpr const char* kShiftAndInsert =
    "UPDATE audit SET seq = -seq WHERE seq >= 42;"
    "UPDATE audit SET seq = 1 - seq WHERE seq < 0;"
    "INSERT INTO audit (seq, time, record, hash) VALUES (42, 0, '{\"v\":1}', x'00');";

struct TamperCase {
  const char* name;
  std::function<void(AuditVerifyTest&)> tamper;
  int64_t first_bad;
  const char* reason;
};

TEST_F(AuditVerifyTest, DetectsEveryKindOfTampering) {
  // Checkpoints land at 30, 60, 90 and 100 (groups of 10, one per 25 records).
  ASSERT_EQ(CheckpointSeqs(), (std::vector<int64_t>{30, 60, 90, 100}));
  // The log as set up is copied aside and restored for each case.
  fs::copy_file(dir_ + "/crs-audit.db", dir_ + "/pristine.db");
  std::vector<TamperCase> cases = {
      {"edit a record's bytes",
       [](AuditVerifyTest& t) {
         t.Tamper("UPDATE audit SET record = replace(record, 'ETREAT', 'TREAT') WHERE seq = 42");
       },
       42, "hash mismatch"},
      {"delete a record", [](AuditVerifyTest& t) { t.Tamper("DELETE FROM audit WHERE seq = 42"); },
       42, "record missing"},
      {"insert a record with a correct hash of its own",
       [](AuditVerifyTest& t) {
         t.Tamper(kShiftAndInsert);
         t.Rehash(42, 42);
       },
       43, "hash mismatch"},
      {"insert a record and rehash everything after it",
       [](AuditVerifyTest& t) {
         t.Tamper(kShiftAndInsert);
         t.Rehash(42);
       },
       31, "signs a different chain head"},
      {"swap two records",
       [](AuditVerifyTest& t) {
         t.Tamper(
             "UPDATE audit SET seq = -1 WHERE seq = 40; UPDATE audit SET seq = 40 WHERE seq = 41;"
             "UPDATE audit SET seq = 41 WHERE seq = -1;");
       },
       40, "hash mismatch"},
      {"rewrite the chain with recomputed hashes",
       [](AuditVerifyTest& t) {
         t.Tamper("UPDATE audit SET record = replace(record, 'ETREAT', 'TREAT') WHERE seq = 42");
         t.Rehash(42);
       },
       31, "signs a different chain head"},
      {"truncate the tail",
       [](AuditVerifyTest& t) { t.Tamper("DELETE FROM audit WHERE seq > 95"); }, 96,
       "records removed from the end"},
      {"forge a checkpoint signature",
       [](AuditVerifyTest& t) {
         t.Tamper("UPDATE audit_checkpoint SET signature = zeroblob(64) WHERE seq = 60");
       },
       60, "signature invalid"},
      {"forge a checkpoint head",
       [](AuditVerifyTest& t) {
         t.Tamper("UPDATE audit_checkpoint SET head = zeroblob(32) WHERE seq = 60");
       },
       60, "signature invalid"},
  };
  for (const TamperCase& c : cases) {
    SCOPED_TRACE(c.name);
    fs::copy_file(dir_ + "/pristine.db", dir_ + "/crs-audit.db",
                  fs::copy_options::overwrite_existing);
    c.tamper(*this);
    VerifyReport r = Verify();
    EXPECT_FALSE(r.intact);
    EXPECT_EQ(r.first_bad_seq, c.first_bad) << r.reason;
    EXPECT_NE(r.reason.find(c.reason), std::string::npos) << r.reason;
  }
}

TEST_F(AuditVerifyTest, UntrustedKeyFails) {
  std::string other_dir = TempDir();
  auto other = SigningKey::LoadOrCreate(other_dir);
  ASSERT_TRUE(other.ok());
  VerifyReport r = Verify(-1, {(*other)->public_key()});
  EXPECT_FALSE(r.intact);
  EXPECT_EQ(r.first_bad_seq, 30);
  fs::remove_all(other_dir);
}

// The documented limit: removing the tail together with its checkpoints
// looks like a log that ended earlier; only the uncovered count shows it.
TEST_F(AuditVerifyTest, TailCutWithItsCheckpointsIsOnlyVisibleAsUncovered) {
  Tamper("DELETE FROM audit WHERE seq > 95; DELETE FROM audit_checkpoint WHERE seq > 90;");
  VerifyReport r = Verify();
  EXPECT_TRUE(r.intact) << r.reason;
  EXPECT_EQ(r.uncovered, 5);
  EXPECT_EQ(r.last_checkpoint_seq, 90);
  VerifyReport strict = Verify(/*max_uncovered=*/0);
  EXPECT_FALSE(strict.intact);
  EXPECT_EQ(strict.first_bad_seq, 91);
}

TEST_F(AuditVerifyTest, AppendingResumesTheChainAfterReopen) {
  Open(/*sign=*/true);
  std::promise<Status> done;
  store_->AppendAudit({ToAuditInput(SampleRead())}, [&done](Status st) { done.set_value(st); });
  ASSERT_TRUE(done.get_future().get().ok());
  VerifyReport r = Verify(0);
  EXPECT_TRUE(r.intact) << r.reason;
  EXPECT_EQ(r.records, 101);
}

// kill -9 mid-flight: every record acknowledged before the kill is in the
// log, and the log verifies.
TEST(AuditCrashTest, AcknowledgedRecordsSurviveKill9) {
  std::string dir = TempDir();
  auto key = SigningKey::LoadOrCreate(dir);
  ASSERT_TRUE(key.ok());
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    store::StoreOptions o;
    o.data_dir = dir;
    o.audit_sign = [k = *key](std::string_view m) { return k->Sign(m); };
    o.audit_key_id = (*key)->key_id();
    o.audit_checkpoint_interval_ms = 20;
    auto s = store::OpenStore(o);
    if (!s.ok()) _exit(3);
    std::atomic<int> inflight{0};
    for (int i = 1;; ++i) {
      while (inflight > 2000) std::this_thread::sleep_for(std::chrono::microseconds(100));
      AuditRecord r = SampleRead();
      r.request_id = std::to_string(i);
      ++inflight;
      (*s)->AppendAudit({ToAuditInput(r)}, [i, &inflight, fd = fds[1]](Status st) {
        if (st.ok()) {
          std::string line = std::to_string(i) + "\n";
          (void)!write(fd, line.data(), line.size());
        }
        --inflight;
      });
    }
  }
  close(fds[1]);
  std::set<int> acked;
  std::string buffer;
  char chunk[4096];
  auto start = std::chrono::steady_clock::now();
  bool killed = false;
  while (true) {
    if (!killed && (acked.size() >= 20000 ||
                    std::chrono::steady_clock::now() - start > std::chrono::seconds(3))) {
      kill(pid, SIGKILL);
      killed = true;
    }
    ssize_t n = read(fds[0], chunk, sizeof chunk);
    if (n <= 0) break;  // EOF once the child is dead
    buffer.append(chunk, static_cast<size_t>(n));
    size_t nl;
    while ((nl = buffer.find('\n')) != std::string::npos) {
      acked.insert(std::stoi(buffer.substr(0, nl)));
      buffer.erase(0, nl + 1);
    }
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited on its own: " << status;
  ASSERT_GT(acked.size(), 100u) << "too few records to make the test meaningful";

  store::StoreOptions o;
  o.data_dir = dir;
  auto s = store::OpenStore(o);
  ASSERT_TRUE(s.ok());
  std::set<int> present;
  int64_t after = 0;
  while (true) {
    auto page = (*s)->ScanAudit(after, 10000);
    ASSERT_TRUE(page.ok());
    if (page->empty()) break;
    for (const auto& rec : *page) {
      auto r = FromJson(rec.record);
      ASSERT_TRUE(r.ok());
      present.insert(std::stoi(r->request_id));
      after = rec.seq;
    }
  }
  for (int id : acked) ASSERT_TRUE(present.count(id)) << "lost acknowledged record " << id;
  VerifyOptions vo;
  vo.public_keys = {(*key)->public_key()};
  auto report = VerifyAuditLog(**s, vo);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->intact) << report->reason;
  EXPECT_GE(report->records, static_cast<int64_t>(acked.size()));
  EXPECT_GT(report->checkpoints, 0);
  s->reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace crs::audit
