// The audit log's patient index in blocks (docs/audit.md, "The patient
// index"): a run's (patient, seq) entries, in key order, are stored
// kBlockEntries to a row of `audit_pblk`, keyed (run, last_patient,
// last_seq) by the block's last entry. `audit_patient` is a read-only
// virtual table over the blocks of the live runs, so queries (and the
// SQLite to PostgreSQL copy) read (patient, seq) rows as from a table.
//
// A block's `entries` is text: for each entry, the patient's length in
// bytes, ':', the patient, the seq in decimal, ';' ("10:999000001842;").
// Migration 4 (schema.h) writes the same form in SQL.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

struct sqlite3;

namespace crs::store::sqlite {

struct PatientEntry {
  std::string patient;
  int64_t seq = 0;
};

inline bool EntryLess(const PatientEntry& a, const PatientEntry& b) {
  return a.patient != b.patient ? a.patient < b.patient : a.seq < b.seq;
}

inline constexpr size_t kBlockEntries = 256;

// Appends the encoded `entries` (in key order) to *out.
void EncodeBlock(const PatientEntry* const* entries, size_t n, std::string* out);

// Appends the entries of `block` to *out, in key order (a block written by
// SQL is sorted here). A block that does not parse is an error and adds
// nothing.
Status DecodeBlock(std::string_view block, std::vector<PatientEntry>* out);

// Registers the eponymous virtual table `audit_patient` on `db` (every
// connection; a real table of that name, as in audit files before version
// 3, takes precedence until migrated). Returns an SQLite result code.
int RegisterAuditPatientTable(sqlite3* db);

}  // namespace crs::store::sqlite
