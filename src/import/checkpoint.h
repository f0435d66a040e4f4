// The import checkpoint: per input file, how far the last committed batch
// got, so that running the same import again continues there. Format
// (docs/import.md): a header line, then one line per file,
//   offset TAB line TAB entry TAB rejected TAB size TAB mtime_ns TAB done TAB path
// written to a temporary file and renamed over the old one.
//
// Thread safety: a value type; one thread at a time.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/status.h"

namespace crs::import {

// Where reading a file resumes: the line starting at byte `offset` (line
// number `line`, 1-based), of which the first `entry` resources (Bundle
// entries) are already committed.
struct Position {
  uint64_t offset = 0;
  int64_t line = 1;
  int64_t entry = 0;
};

struct FileProgress {
  Position position;
  int64_t rejected = 0;  // lines or entries rejected before `position`
  uint64_t size = 0;     // the file as it was when the progress was recorded
  int64_t mtime_ns = 0;
  bool done = false;  // the whole file is committed
};

class Checkpoint {
 public:
  // Loads `path`; an absent file is an empty checkpoint. Invalid when the
  // file is not a checkpoint.
  static Result<Checkpoint> Load(const std::string& path);

  // The recorded progress of `file`, or null.
  const FileProgress* Find(const std::string& file) const;
  void Set(const std::string& file, const FileProgress& progress) { files_[file] = progress; }

  // Writes the checkpoint (temporary file + rename). Unavailable on I/O failure.
  Status Save() const;

 private:
  std::string path_;
  std::map<std::string, FileProgress> files_;
};

}  // namespace crs::import
