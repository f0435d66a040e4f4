#include "store/sqlite/index_runs.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <thread>
#include <unordered_map>
#include <vector>

#include "store/sqlite/chunked_insert.h"

namespace crs::store::sqlite {

namespace {

struct TableSpec {
  const char* name;
  int columns;
  bool text[kMaxRunFields];
  int rid;  // the column holding the resource's rid
  const ChunkedInsert& insert;
};

// The tables' primary-key columns, in key order (index_runs.h).
const TableSpec& Spec(RunTable t) {
  static const ChunkedInsert kString("ix_string (pid, norm, exact, rid)", 4);
  static const ChunkedInsert kToken(
      "ix_token (pid, code, system, rid, text, type_system, type_code)", 7);
  static const ChunkedInsert kDate("ix_date (pid, lo, hi, rid)", 4);
  static const ChunkedInsert kRef("ix_ref (pid, tid, ttype, url, rid)", 5);
  static const ChunkedInsert kUri("ix_uri (pid, uri, rid)", 3);
  static const TableSpec kSpecs[kRunTables] = {
      {"ix_string", 4, {false, true, true, false}, 3, kString},
      {"ix_token", 7, {false, true, true, false, true, true, true}, 3, kToken},
      {"ix_date", 4, {false, false, false, false}, 3, kDate},
      {"ix_ref", 5, {false, true, true, true, false}, 4, kRef},
      {"ix_uri", 3, {false, true, false}, 2, kUri},
  };
  return kSpecs[t];
}

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Reads a varint at in[*at]: 1 read, 0 the input ends first, -1 too long.
int GetVarint(std::string_view in, size_t* at, uint64_t* v) {
  uint64_t r = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*at >= in.size()) return 0;
    uint8_t b = static_cast<uint8_t>(in[(*at)++]);
    r |= uint64_t{b & 0x7fu} << shift;
    if ((b & 0x80) == 0) {
      *v = r;
      return 1;
    }
  }
  return -1;
}

// Steps `s` to the end, calling `row` at each row; resets it.
template <typename F>
Status EachRow(Stmt* s, F row) {
  while (true) {
    auto more = s->Step();
    if (!more.ok() || !*more) {
      s->Reset();
      return more.ok() ? Status::Ok() : more.status();
    }
    row();
  }
}

Status StepDone(Stmt* s) {
  auto r = s->Step();
  s->Reset();
  return r.ok() ? Status::Ok() : r.status();
}

// Reads one run's rows in order, a buffer at a time.
class RunReader {
 public:
  RunReader(RunTable table, size_t buffer) : table_(table), buf_(buffer, '\0') {}
  ~RunReader() {
    if (blob_ != nullptr) sqlite3_blob_close(blob_);
  }
  RunReader(const RunReader&) = delete;
  RunReader& operator=(const RunReader&) = delete;

  Status Open(Db& db, const std::string& schema, int64_t seq) {
    seq_ = seq;
    int rc = sqlite3_blob_open(db.raw(), schema.c_str(), "ix_runs", "body", seq, 0, &blob_);
    if (rc != SQLITE_OK) return SqliteStatus(rc, "open an index run", db.raw());
    size_ = sqlite3_blob_bytes(blob_);
    return Status::Ok();
  }

  // Moves to the next row: false after the last.
  Result<bool> Next() {
    pos_ += len_;
    len_ = 0;
    while (true) {
      int64_t n = DecodeRunRow(table_, std::string_view(buf_.data() + pos_, end_ - pos_), fields_);
      if (n > 0) {
        len_ = static_cast<size_t>(n);
        return true;
      }
      if (n < 0) return Status::Internal("index run " + std::to_string(seq_) + " is damaged");
      if (read_ == size_) {
        if (pos_ == end_) return false;
        return Status::Internal("index run " + std::to_string(seq_) + " ends inside a row");
      }
      size_t tail = end_ - pos_;
      std::memmove(buf_.data(), buf_.data() + pos_, tail);
      pos_ = 0;
      end_ = tail;
      if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);  // a row longer than the buffer
      int want = static_cast<int>(std::min<int64_t>(buf_.size() - end_, size_ - read_));
      int rc = sqlite3_blob_read(blob_, buf_.data() + end_, want, static_cast<int>(read_));
      if (rc != SQLITE_OK) return SqliteStatus(rc, "read an index run", nullptr);
      read_ += want;
      end_ += want;
    }
  }

  const RunField* fields() const { return fields_; }
  std::string_view bytes() const { return std::string_view(buf_.data() + pos_, len_); }
  int64_t seq() const { return seq_; }

 private:
  RunTable table_;
  sqlite3_blob* blob_ = nullptr;
  int64_t seq_ = 0;
  int64_t size_ = 0;  // the blob's bytes
  int64_t read_ = 0;  // bytes read into buf_ so far
  std::string buf_;
  size_t pos_ = 0, len_ = 0, end_ = 0;  // the current row: buf_[pos_, pos_ + len_)
  RunField fields_[kMaxRunFields];
};

struct OutRow {
  RunField f[kMaxRunFields];
};

// Inserts the encoded rows in `out` into the table; clears `out`.
Status InsertRows(Db& db, RunTable t, std::string* out, std::vector<OutRow>* rows) {
  const TableSpec& spec = Spec(t);
  rows->clear();
  std::string_view in(*out);
  while (!in.empty()) {
    OutRow r;
    int64_t n = DecodeRunRow(t, in, r.f);
    if (n <= 0) return Status::Internal("merged index rows do not decode");
    rows->push_back(r);
    in.remove_prefix(static_cast<size_t>(n));
  }
  Status st = spec.insert.Run(db, *rows, [&spec](Stmt* s, int i, const OutRow& r) {
    for (int c = 0; c < spec.columns; ++c) {
      if (spec.text[c]) {
        s->Bind(i + c, r.f[c].s);
      } else {
        s->Bind(i + c, r.f[c].i);
      }
    }
  });
  out->clear();
  return st;
}

using Kills = std::unordered_map<int64_t, int64_t>;  // rid -> the last run seq it kills

// Merges `t`'s runs; the transaction is the caller's.
Status MergeTableInTransaction(Db& db, const std::string& schema, RunTable t,
                               const std::vector<std::pair<int64_t, int64_t>>& runs,
                               const Kills& kills,
                               const std::function<void(const MergeProgress&)>& progress) {
  const TableSpec& spec = Spec(t);
  MergeProgress p;
  p.table = spec.name;
  for (const auto& r : runs) p.total += r.second;

  // Into an empty table, the secondary indexes are built once at the end
  // (a sort) instead of taking each row at a random place.
  std::vector<std::string> rebuild;
  {
    CRS_ASSIGN_OR_RETURN(Stmt * any,
                         db.PrepareDynamic(std::string("SELECT 1 FROM ") + spec.name + " LIMIT 1"));
    auto row = any->Step();
    any->Reset();
    if (!row.ok()) return row.status();
    if (!*row) {
      CRS_ASSIGN_OR_RETURN(
          Stmt * q, db.PrepareDynamic("SELECT name, sql FROM " + schema +
                                      ".sqlite_schema WHERE type = 'index' AND tbl_name = ?1 "
                                      "AND sql IS NOT NULL ORDER BY name"));
      q->Bind(1, std::string_view(spec.name));
      std::vector<std::string> names;
      bool odd = false;
      CRS_RETURN_IF_ERROR(EachRow(q, [&] {
        names.emplace_back(q->Text(0));
        // "CREATE [UNIQUE] INDEX name ON ..." -> "... INDEX schema.name ON ...",
        // so that it is built in the resource file whatever the search order.
        std::string sql(q->Text(1));
        size_t at = sql.find("INDEX ");
        if (at == std::string::npos) {
          odd = true;
          return;
        }
        sql.insert(at + 6, schema + ".");
        rebuild.push_back(std::move(sql));
      }));
      if (odd) return Status::Internal("unexpected index definition on " + std::string(spec.name));
      for (const auto& name : names) {
        CRS_RETURN_IF_ERROR(db.Exec("DROP INDEX " + schema + "." + name));
      }
    }
  }

  Status st = Status::Ok();
  {
    // 256 MB of read buffers at most, shared by the runs (4 KB each for more
    // than 65,536 runs, as an import with tiny batches makes; a longer row
    // grows its buffer).
    size_t buffer = std::clamp<size_t>((size_t{256} << 20) / runs.size(), 4 << 10, 1 << 20);
    std::vector<std::unique_ptr<RunReader>> readers;
    readers.reserve(runs.size());
    std::vector<RunReader*> heap;
    for (const auto& r : runs) {
      readers.push_back(std::make_unique<RunReader>(t, buffer));
      CRS_RETURN_IF_ERROR(readers.back()->Open(db, schema, r.first));
      CRS_ASSIGN_OR_RETURN(bool any, readers.back()->Next());
      if (any) heap.push_back(readers.back().get());
    }
    // A min-heap on each run's current row.
    auto after = [t](const RunReader* a, const RunReader* b) {
      return CompareRunRows(t, a->fields(), b->fields()) > 0;
    };
    std::make_heap(heap.begin(), heap.end(), after);
    const int rid_column = spec.rid;
    constexpr size_t kChunkBytes = 1 << 20;
    std::string out;
    out.reserve(kChunkBytes + 4096);
    std::vector<OutRow> rows;
    int64_t next_report = 1 << 20;
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), after);
      RunReader* r = heap.back();
      bool dead = false;
      if (!kills.empty()) {
        auto k = kills.find(r->fields()[rid_column].i);
        dead = k != kills.end() && r->seq() <= k->second;
      }
      if (!dead) out.append(r->bytes());
      if (++p.done >= next_report) {
        next_report += 1 << 20;
        if (progress) progress(p);
      }
      auto more = r->Next();
      if (!more.ok()) return more.status();
      if (*more) {
        std::push_heap(heap.begin(), heap.end(), after);
      } else {
        heap.pop_back();
      }
      if (out.size() >= kChunkBytes) {
        st = InsertRows(db, t, &out, &rows);
        if (!st.ok()) return st;
      }
    }
    if (!out.empty()) CRS_RETURN_IF_ERROR(InsertRows(db, t, &out, &rows));
  }  // the blob handles close here: the schema changes below need none open

  for (const auto& sql : rebuild) CRS_RETURN_IF_ERROR(db.Exec(sql));
  CRS_ASSIGN_OR_RETURN(Stmt * del, db.Prepare("DELETE FROM ix_runs WHERE tbl = ?1"));
  del->Bind(1, static_cast<int64_t>(t));
  CRS_RETURN_IF_ERROR(StepDone(del));
  if (progress) progress(p);
  return Status::Ok();
}

Status MergeAll(Db& db, const std::string& schema,
                const std::function<void(const MergeProgress&)>& progress);

}  // namespace

int CompareRunRows(RunTable table, const RunField* a, const RunField* b) {
  const TableSpec& spec = Spec(table);
  for (int c = 0; c < spec.columns; ++c) {
    if (spec.text[c]) {
      int r = a[c].s.compare(b[c].s);
      if (r != 0) return r < 0 ? -1 : 1;
    } else if (a[c].i != b[c].i) {
      return a[c].i < b[c].i ? -1 : 1;
    }
  }
  return 0;
}

void EncodeRunRow(RunTable table, const RunField* fields, std::string* out) {
  const TableSpec& spec = Spec(table);
  for (int c = 0; c < spec.columns; ++c) {
    if (spec.text[c]) {
      PutVarint(fields[c].s.size(), out);
      out->append(fields[c].s);
    } else {
      // Zigzag: small negative numbers (dates before 1970) stay short.
      uint64_t v = static_cast<uint64_t>(fields[c].i);
      PutVarint((v << 1) ^ (fields[c].i < 0 ? ~uint64_t{0} : 0), out);
    }
  }
}

int64_t DecodeRunRow(RunTable table, std::string_view in, RunField* fields) {
  const TableSpec& spec = Spec(table);
  size_t at = 0;
  for (int c = 0; c < spec.columns; ++c) {
    uint64_t v = 0;
    int got = GetVarint(in, &at, &v);
    if (got <= 0) return got;
    if (spec.text[c]) {
      if (v > (uint64_t{1} << 31)) return -1;
      if (in.size() - at < v) return 0;
      fields[c].s = in.substr(at, v);
      at += v;
    } else {
      fields[c].i = static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
    }
  }
  return static_cast<int64_t>(at);
}

Status StoreRun(Db& db, RunTable table, int64_t rows, std::string_view body) {
  CRS_ASSIGN_OR_RETURN(Stmt * s,
                       db.Prepare("INSERT INTO ix_runs (tbl, rows, body) VALUES (?1, ?2, ?3)"));
  s->Bind(1, static_cast<int64_t>(table));
  s->Bind(2, rows);
  s->BindBlob(3, body);
  return StepDone(s);
}

Status KillRunRows(Db& db, int64_t rid) {
  CRS_ASSIGN_OR_RETURN(Stmt * s,
                       db.Prepare("INSERT OR REPLACE INTO ix_run_kills (rid, last) "
                                  "VALUES (?1, (SELECT COALESCE(MAX(seq), 0) FROM ix_runs))"));
  s->Bind(1, rid);
  return StepDone(s);
}

Result<bool> HasRuns(Db& db) {
  CRS_ASSIGN_OR_RETURN(Stmt * s, db.Prepare("SELECT 1 FROM ix_runs LIMIT 1"));
  auto row = s->Step();
  s->Reset();
  return row;
}

Status MergeRuns(Db& db, const std::string& schema,
                 const std::function<void(const MergeProgress&)>& progress) {
  // CREATE INDEX sorts with helper threads too, and in pieces of up to
  // 512 MB: SQLite sizes them by the cache of the connection's main
  // database, which for the store's writer is the audit log's (2 MB; with
  // it, 96 million rows took over a thousand pieces and many merge passes).
  CRS_RETURN_IF_ERROR(
      db.Exec("PRAGMA threads = " +
              std::to_string(std::max(1u, std::min(8u, std::thread::hardware_concurrency())))));
  int64_t main_cache = 0;
  {
    CRS_ASSIGN_OR_RETURN(Stmt * s, db.Prepare("PRAGMA main.cache_size"));
    auto row = s->Step();
    if (row.ok() && *row) main_cache = s->Int(0);
    s->Reset();
    if (!row.ok()) return row.status();
  }
  CRS_RETURN_IF_ERROR(db.Exec("PRAGMA main.cache_size = -524288; PRAGMA temp_store = FILE"));
  Status merged = MergeAll(db, schema, progress);
  Status restored = db.Exec("PRAGMA main.cache_size = " + std::to_string(main_cache) +
                            "; PRAGMA temp_store = MEMORY");
  return merged.ok() ? restored : merged;
}

namespace {

Status MergeAll(Db& db, const std::string& schema,
                const std::function<void(const MergeProgress&)>& progress) {
  Kills kills;
  {
    CRS_ASSIGN_OR_RETURN(Stmt * s, db.Prepare("SELECT rid, last FROM ix_run_kills"));
    CRS_RETURN_IF_ERROR(EachRow(s, [&] { kills[s->Int(0)] = s->Int(1); }));
  }
  for (int t = 0; t < kRunTables; ++t) {
    std::vector<std::pair<int64_t, int64_t>> runs;  // seq, rows
    CRS_ASSIGN_OR_RETURN(Stmt * s,
                         db.Prepare("SELECT seq, rows FROM ix_runs WHERE tbl = ?1 ORDER BY seq"));
    s->Bind(1, static_cast<int64_t>(t));
    CRS_RETURN_IF_ERROR(EachRow(s, [&] { runs.emplace_back(s->Int(0), s->Int(1)); }));
    if (runs.empty()) continue;
    CRS_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
    Status st =
        MergeTableInTransaction(db, schema, static_cast<RunTable>(t), runs, kills, progress);
    if (st.ok()) st = db.Exec("COMMIT");
    if (!st.ok()) {
      (void)db.Exec("ROLLBACK");
      return st;
    }
  }
  return db.Exec("DELETE FROM ix_run_kills");
}

}  // namespace

}  // namespace crs::store::sqlite
