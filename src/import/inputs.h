// The inputs of `crs import`: which files a list of paths names, and the
// resources each one holds (NDJSON lines, Bundle entries).
//
// Thread safety: LineReader is used by one thread; the functions are pure.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace crs::import {

enum class InputFormat {
  kNdjson,  // one JSON value per line
  kJson,    // the whole file is one JSON value (typically a Bundle)
};

struct InputFile {
  std::string path;  // absolute
  InputFormat format = InputFormat::kNdjson;
  uint64_t size = 0;
  int64_t mtime_ns = 0;  // with size, tells a checkpoint whether the file changed
};

// Expands `paths`: a file is taken as named (`.json` is one JSON document,
// anything else NDJSON); a folder contributes every `*.ndjson`, `*.jsonl`
// and `*.json` file under it, recursively, in path order. A file named twice
// is read once. Invalid when a path does not exist or names neither a file
// nor a folder.
Result<std::vector<InputFile>> ListInputs(const std::vector<std::string>& paths);

// The whole contents of `path` (a .json input). Unavailable on I/O errors.
Result<std::string> ReadWholeFile(const std::string& path);

// Reads an NDJSON file line by line from a byte offset, through a large
// buffer (no per-line allocation). Lines may be of any length.
class LineReader {
 public:
  // Opens `path` positioned at byte `offset` (the start of a line).
  static Result<std::unique_ptr<LineReader>> Open(const std::string& path, uint64_t offset);
  ~LineReader();

  // The next line without its line ending ("\n" or "\r\n"); false at the end
  // of the file. *start is the line's byte offset. The view is valid until
  // the next call. Unavailable on a read error.
  Result<bool> Next(std::string_view* line, uint64_t* start);
  // Byte offset just past the last line returned.
  uint64_t offset() const { return offset_; }

 private:
  LineReader(std::FILE* file, uint64_t offset) : file_(file), offset_(offset) {}
  std::FILE* file_;
  uint64_t offset_;  // file offset of buffer_[begin_]
  std::string buffer_;
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
};

// One resource an input holds, with the id it is imported under.
struct Entry {
  boost::json::value resource;
  std::string type;
  std::string id;
};

// The resources one JSON value holds: a Bundle of type batch, transaction or
// collection gives its entries' resources (the id from the resource, or from
// a PUT entry's request.url); anything else is one resource. Each element is
// an Entry or the reason that entry cannot be imported (no resource, no id,
// a DELETE entry, ...). *bundle tells whether `value` was such a Bundle.
std::vector<Result<Entry>> EntriesOf(boost::json::value value, bool* bundle);

}  // namespace crs::import
