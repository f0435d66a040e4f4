#include "import/inputs.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

namespace crs::import {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

bool IsInputName(const fs::path& p) {
  std::string ext = p.extension().string();
  return ext == ".ndjson" || ext == ".jsonl" || ext == ".json";
}

Result<InputFile> Describe(const fs::path& path) {
  std::error_code ec;
  fs::path abs = fs::absolute(path, ec).lexically_normal();
  if (ec) return Status::Invalid(path.string() + ": " + ec.message());
  InputFile f;
  f.path = abs.string();
  f.format = abs.extension() == ".json" ? InputFormat::kJson : InputFormat::kNdjson;
  f.size = fs::file_size(abs, ec);
  if (ec) return Status::Invalid(path.string() + ": " + ec.message());
  auto mtime = fs::last_write_time(abs, ec);
  if (ec) return Status::Invalid(path.string() + ": " + ec.message());
  f.mtime_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(mtime.time_since_epoch()).count();
  return f;
}

}  // namespace

Result<std::string> ReadWholeFile(const std::string& path) {
  std::string text;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Status::Unavailable(path + ": " + std::strerror(errno));
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) text.append(buf, n);
  bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return Status::Unavailable(path + ": read error");
  return text;
}

Result<std::vector<InputFile>> ListInputs(const std::vector<std::string>& paths) {
  std::vector<InputFile> files;
  std::set<std::string> seen;
  auto add = [&](const fs::path& p) -> Status {
    CRS_ASSIGN_OR_RETURN(InputFile f, Describe(p));
    if (seen.insert(f.path).second) files.push_back(std::move(f));
    return Status::Ok();
  };
  for (const std::string& path : paths) {
    std::error_code ec;
    fs::file_status st = fs::status(path, ec);
    if (ec || !fs::exists(st)) return Status::Invalid(path + ": no such file or folder");
    if (fs::is_regular_file(st)) {
      CRS_RETURN_IF_ERROR(add(path));
      continue;
    }
    if (!fs::is_directory(st)) return Status::Invalid(path + ": neither a file nor a folder");
    std::vector<fs::path> found;
    for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file() && IsInputName(it->path())) found.push_back(it->path());
    }
    if (ec) return Status::Invalid(path + ": " + ec.message());
    std::sort(found.begin(), found.end());
    for (const fs::path& p : found) CRS_RETURN_IF_ERROR(add(p));
  }
  return files;
}

Result<std::unique_ptr<LineReader>> LineReader::Open(const std::string& path, uint64_t offset) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Status::Unavailable(path + ": " + std::strerror(errno));
  if (offset > 0 && fseeko(f, static_cast<off_t>(offset), SEEK_SET) != 0) {
    std::fclose(f);
    return Status::Unavailable(path + ": cannot seek: " + std::strerror(errno));
  }
  return std::unique_ptr<LineReader>(new LineReader(f, offset));
}

LineReader::~LineReader() { std::fclose(file_); }

Result<bool> LineReader::Next(std::string_view* line, uint64_t* start) {
  constexpr size_t kChunk = 4 << 20;
  while (true) {
    const char* base = buffer_.data() + begin_;
    const void* nl = std::memchr(base, '\n', end_ - begin_);
    if (nl != nullptr || (eof_ && end_ > begin_)) {
      size_t len = nl ? static_cast<const char*>(nl) - base : end_ - begin_;
      size_t consumed = nl ? len + 1 : len;
      if (len > 0 && base[len - 1] == '\r') --len;
      *line = std::string_view(base, len);
      *start = offset_;
      offset_ += consumed;
      begin_ += consumed;
      return true;
    }
    if (eof_) return false;
    // Keep the partial line, then read more after it.
    if (begin_ > 0) {
      buffer_.erase(0, begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (buffer_.size() < end_ + kChunk) buffer_.resize(end_ + kChunk);
    size_t n = std::fread(buffer_.data() + end_, 1, buffer_.size() - end_, file_);
    if (n == 0) {
      if (std::ferror(file_))
        return Status::Unavailable(std::string("read error: ") + std::strerror(errno));
      eof_ = true;
    }
    end_ += n;
  }
}

namespace {

Result<Entry> AsEntry(json::value resource, std::string id_hint) {
  json::object* o = resource.if_object();
  if (o == nullptr) return Status::Invalid("not a JSON object");
  const json::value* type = o->if_contains("resourceType");
  if (type == nullptr || !type->is_string() || type->get_string().empty()) {
    return Status::Invalid("no resourceType");
  }
  Entry e;
  e.type = std::string(type->get_string());
  if (const json::value* id = o->if_contains("id"); id != nullptr && id->is_string()) {
    e.id = std::string(id->get_string());
  }
  if (e.id.empty() && !id_hint.empty()) {
    e.id = std::move(id_hint);
    (*o)["id"] = e.id;
  }
  if (e.id.empty()) {
    return Status::Invalid("a " + e.type +
                           " without an id: import keeps ids (PUT semantics), "
                           "so every resource needs one");
  }
  e.resource = std::move(resource);
  return e;
}

// The id a transaction entry's request names: "Type/id" for PUT.
std::string IdFromRequest(const json::object& entry, std::string* method) {
  const json::value* request = entry.if_contains("request");
  if (request == nullptr || !request->is_object()) return {};
  const json::object& r = request->get_object();
  if (const json::value* m = r.if_contains("method"); m && m->is_string())
    *method = m->get_string();
  const json::value* url = r.if_contains("url");
  if (*method != "PUT" || url == nullptr || !url->is_string()) return {};
  std::string_view u = url->get_string();
  size_t slash = u.find('/');
  if (slash == std::string_view::npos ||
      u.find_first_of("/?", slash + 1) != std::string_view::npos) {
    return {};
  }
  return std::string(u.substr(slash + 1));
}

}  // namespace

std::vector<Result<Entry>> EntriesOf(json::value value, bool* bundle) {
  std::vector<Result<Entry>> out;
  json::object* o = value.if_object();
  const json::value* type = o ? o->if_contains("resourceType") : nullptr;
  const json::value* bundle_type = o ? o->if_contains("type") : nullptr;
  bool expand =
      type && type->is_string() && type->get_string() == "Bundle" && bundle_type &&
      bundle_type->is_string() &&
      (bundle_type->get_string() == "batch" || bundle_type->get_string() == "transaction" ||
       bundle_type->get_string() == "collection");
  *bundle = expand;
  if (!expand) {
    out.push_back(AsEntry(std::move(value), ""));
    return out;
  }
  json::value* entries = o->if_contains("entry");
  if (entries == nullptr) return out;
  if (!entries->is_array()) {
    out.push_back(Status::Invalid("Bundle.entry is not an array"));
    return out;
  }
  for (json::value& e : entries->get_array()) {
    json::object* entry = e.if_object();
    if (entry == nullptr) {
      out.push_back(Status::Invalid("a Bundle entry that is not an object"));
      continue;
    }
    std::string method;
    std::string id = IdFromRequest(*entry, &method);
    if (method == "DELETE" || method == "PATCH") {
      out.push_back(Status::Invalid("a " + method + " entry: import loads resources only"));
      continue;
    }
    json::value* resource = entry->if_contains("resource");
    if (resource == nullptr) {
      out.push_back(Status::Invalid("a Bundle entry without a resource"));
      continue;
    }
    out.push_back(AsEntry(std::move(*resource), std::move(id)));
  }
  return out;
}

}  // namespace crs::import
