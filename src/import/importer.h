// Bulk import: loads resources from NDJSON files and Bundles into a store,
// each prepared as an HTTP PUT would be (import/prepare.h), in large
// batches that each carry one audit record, resumably (import/checkpoint.h).
// docs/import.md describes the behaviour a user sees.
//
// Reading and preparing run on the calling thread; committing runs on two
// more threads a few batches behind, so preparation, compression and the
// store's writer overlap. The store must not be written by anyone else
// meanwhile (the CLI holds the data directory's lock).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "access/consent.h"
#include "access/sensitive.h"
#include "core/status.h"
#include "core/time.h"
#include "import/checkpoint.h"
#include "import/inputs.h"
#include "store/store.h"

namespace crs::import {

struct ImportOptions {
  std::vector<InputFile> files;       // from ListInputs
  std::string author_org = "IMPORT";  // AccessFacts::author_org and the audit record's org
  // Resources (lines, entries) per WriteBatch, and the most bytes of JSON a
  // batch holds (whichever comes first). Large transactions matter: rows
  // land all over the index B-trees, and a page is written to the WAL once
  // per transaction however many rows it took (docs/import.md).
  int batch_size = 20000;
  size_t batch_bytes = 64 << 20;
  std::string checkpoint_path;        // empty: not resumable
  std::string run_id;                 // prefix of the audit records' request ids
  int max_json_depth = 64;
  // Summary Care Record documents (docs/import.md) are kept as an upload to
  // a national node keeps them: without these codes, and as the patients'
  // consent under this model allows.
  access::SensitiveCodes sensitive_codes = access::SensitiveCodes::Default();
  access::ConsentModel consent_model = access::ConsentModel::kImplied;
  // Tests only: called on the committing thread after batch `n` (1, 2, ...)
  // is committed and before the checkpoint records it.
  std::function<void(int64_t n)> after_commit;
};

// A line or Bundle entry that was not imported.
struct Rejection {
  std::string file;
  int64_t line = 0;   // 1-based; 0 for a .json file (one document)
  int64_t entry = 0;  // 1-based Bundle entry; 0 when the whole line is meant
  std::string reason;
};

struct ImportCounts {
  int64_t written = 0;    // resources written (a new version each)
  int64_t unchanged = 0;  // already stored as given: nothing written
  int64_t patients = 0;   // of `written`, Patients
  int64_t rejected = 0;
};

struct ImportProgress {
  ImportCounts counts;  // committed in this run
  int64_t batches = 0;
  uint64_t bytes_total = 0;   // all input files
  uint64_t bytes_done = 0;    // committed, including what earlier runs did
  uint64_t bytes_before = 0;  // done by earlier runs (from the checkpoint)
};

// Receives what an import reports. Rejected and Note run on the calling
// thread, Committed on the committing thread: an implementation that shares
// state between them locks it.
class ImportObserver {
 public:
  virtual ~ImportObserver() = default;
  virtual void Rejected(const Rejection& rejection) = 0;
  virtual void Note(const std::string& message) = 0;
  virtual void Committed(const ImportProgress& progress) = 0;
};

struct ImportSummary {
  ImportProgress progress;
  int64_t rejected_earlier = 0;  // rejected by earlier runs of a resumed import
  bool interrupted = false;      // *stop was set: the rest is left for the next run
};

// Where an import of `files` resumes: the checkpoint at `checkpoint_path`
// (none when empty or absent) and each file's saved progress, unless the
// file changed since (then it is read from the start, with a note to
// `observer`). Invalid when the file is not a checkpoint.
struct Resume {
  Checkpoint checkpoint;
  std::vector<FileProgress> starts;  // per file, in order
  uint64_t total = 0;                // bytes in all files
  uint64_t before = 0;               // bytes done by earlier runs
  int64_t rejected_earlier = 0;
  ImportProgress Start() const { return ImportProgress{{}, 0, total, before, before}; }
};
Result<Resume> ResumeFrom(const std::string& checkpoint_path, const std::vector<InputFile>& files,
                          ImportObserver& observer);

// Imports options.files, continuing from the checkpoint when there is one.
// Rejected lines are reported and skipped; the import stops early (after
// committing what it prepared) when *stop becomes true. Errors: the store's
// (Unavailable, ...) or the checkpoint's; what was committed stays committed
// and the checkpoint says so.
Result<ImportSummary> Import(store::Store& store, const Clock& clock, const ImportOptions& options,
                             ImportObserver& observer, const std::atomic<bool>* stop);

}  // namespace crs::import
