#include "import/checkpoint.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace crs::import {

namespace {
constexpr const char* kHeader = "crs-import-checkpoint 1";
}

Result<Checkpoint> Checkpoint::Load(const std::string& path) {
  Checkpoint c;
  c.path_ = path;
  std::ifstream in(path);
  if (!in) return c;
  std::string line;
  if (!std::getline(in, line)) return c;
  if (line != kHeader) return Status::Invalid(path + " is not an import checkpoint");
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    FileProgress p;
    int done = 0;
    std::string file;
    fields >> p.position.offset >> p.position.line >> p.position.entry >> p.rejected >> p.size >>
        p.mtime_ns >> done;
    if (!fields || fields.get() != '\t' || !std::getline(fields, file) || file.empty()) {
      return Status::Invalid(path + ": unreadable line: " + line);
    }
    p.done = done != 0;
    c.files_[file] = p;
  }
  return c;
}

const FileProgress* Checkpoint::Find(const std::string& file) const {
  auto it = files_.find(file);
  return it == files_.end() ? nullptr : &it->second;
}

Status Checkpoint::Save() const {
  std::string text = std::string(kHeader) + "\n";
  for (const auto& [file, p] : files_) {
    text += std::to_string(p.position.offset) + "\t" + std::to_string(p.position.line) + "\t" +
            std::to_string(p.position.entry) + "\t" + std::to_string(p.rejected) + "\t" +
            std::to_string(p.size) + "\t" + std::to_string(p.mtime_ns) + "\t" +
            (p.done ? "1" : "0") + "\t" + file + "\n";
  }
  std::string tmp = path_ + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return Status::Unavailable(tmp + ": " + std::strerror(errno));
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  ok = std::fclose(f) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path_.c_str()) != 0) {
    return Status::Unavailable("cannot write " + path_ + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace crs::import
