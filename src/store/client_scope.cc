#include "store/client_scope.h"

#include <utility>

namespace crs::store {
namespace {

const std::string kNoClient;
thread_local const std::string* current = &kNoClient;

}  // namespace

ClientScope::ClientScope(std::string key) : key_(std::move(key)), outer_(current) {
  if (!key_.empty()) current = &key_;
}

ClientScope::~ClientScope() { current = outer_; }

const std::string& ClientScope::Current() { return *current; }

}  // namespace crs::store
