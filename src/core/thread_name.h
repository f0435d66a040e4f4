// Names the calling thread so that `top -H`, `ps -L`, `perf` and `gdb` show
// what each of the server's threads is (the writer, the HTTP threads, ...),
// and bench scripts can split the server's CPU time by thread.
#pragma once

#include <pthread.h>

#include <algorithm>
#include <cstring>
#include <string_view>

namespace crs {

// Linux keeps the first 15 bytes of a thread's name.
inline void SetThreadName(std::string_view name) {
  char buf[16];
  size_t n = std::min(name.size(), sizeof(buf) - 1);
  std::memcpy(buf, name.data(), n);
  buf[n] = '\0';
  pthread_setname_np(pthread_self(), buf);
}

// For threads the code does not start itself (a thread pool's): names the
// calling thread the first time it gets here; later calls cost a
// thread-local test.
inline void NameThisThreadOnce(std::string_view name) {
  thread_local bool named = false;
  if (named) return;
  named = true;
  SetThreadName(name);
}

}  // namespace crs
