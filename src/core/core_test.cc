#include <gtest/gtest.h>

#include <pthread.h>

#include <set>
#include <string>
#include <thread>

#include "core/base64.h"
#include "core/ids.h"
#include "core/status.h"
#include "core/thread_name.h"
#include "core/time.h"

namespace crs {
namespace {

TEST(TimeTest, FormatsInstantsAndHttpDates) {
  EXPECT_EQ(FormatInstant(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatInstant(1795255445123), "2026-11-21T10:04:05.123Z");
  EXPECT_EQ(FormatHttpDate(1795255445123), "Sat, 21 Nov 2026 10:04:05 GMT");
  EXPECT_EQ(FormatInstant(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatInstant(-61000000000000), "0036-12-26T11:33:20.000Z");
  EXPECT_EQ(FormatHttpDate(1772348645000), "Sun, 01 Mar 2026 07:04:05 GMT");
}

TEST(TimeTest, ParsesFhirDateTimes) {
  EXPECT_EQ(ParseFhirDateTime("2026-11-21T10:04:05.123Z"), 1795255445123);
  EXPECT_EQ(ParseFhirDateTime("2026-11-21T11:04:05.123+01:00"), 1795255445123);
  EXPECT_EQ(ParseFhirDateTime("1970"), 0);
  EXPECT_EQ(ParseFhirDateTime("1970-01-02"), 86400000);
  struct { const char* text; } bad[] = {{""}, {"19"}, {"2026-13-01"}, {"2026-02-30"},
                                         {"2026-01-01T25:00:00Z"}, {"2026-01-01T10:00:00X"},
                                         {"2026-01-01 10:00"}, {"yesterday"}};
  for (auto& b : bad) EXPECT_FALSE(ParseFhirDateTime(b.text).has_value()) << b.text;
}

TEST(IdsTest, NewIdsAreUniqueValidUuids) {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    std::string id = NewId();
    ASSERT_EQ(id.size(), 36u);
    for (size_t i = 0; i < id.size(); ++i) {
      if (i == 8 || i == 13 || i == 18 || i == 23) {
        ASSERT_EQ(id[i], '-') << id;
      } else {
        ASSERT_TRUE((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')) << id;
      }
    }
    EXPECT_EQ(id[14], '4');
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
    EXPECT_TRUE(seen.insert(id).second);
  }
}

TEST(Base64Test, Decodes) {
  EXPECT_EQ(Base64Decode("aGVsbG8="), "hello");
  EXPECT_EQ(Base64Decode("aGVs bG8h"), "hello!");
  EXPECT_FALSE(Base64Decode("aGVsbG8").has_value());
  EXPECT_FALSE(Base64Decode("aGV$bG8=").has_value());
  EXPECT_FALSE(Base64Decode("aG=sbG8=").has_value());
}

TEST(StatusTest, MapsCodesToHttp) {
  EXPECT_EQ(HttpStatusOf(Code::kNotFound), 404);
  EXPECT_EQ(HttpStatusOf(Code::kPreconditionFailed), 412);
  EXPECT_EQ(HttpStatusOf(Code::kUnprocessable), 422);
  Result<int> r = Status::Gone("x");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kGone);
}

// The name the kernel holds for the calling thread.
std::string CurrentThreadName() {
  char buf[16] = {};
  pthread_getname_np(pthread_self(), buf, sizeof(buf));
  return buf;
}

TEST(ThreadNameTest, NamesTheCallingThreadOnlyAndCutsLongNames) {
  std::string before = CurrentThreadName();
  std::thread t([] {
    SetThreadName("crs-test");
    EXPECT_EQ(CurrentThreadName(), "crs-test");
    SetThreadName("crs-a-name-longer-than-fifteen");
    EXPECT_EQ(CurrentThreadName(), "crs-a-name-long");
  });
  t.join();
  EXPECT_EQ(CurrentThreadName(), before);  // the test's own thread kept its name
}

TEST(ThreadNameTest, NamesAPoolThreadOnce) {
  std::thread t([] {
    NameThisThreadOnce("crs-first");
    NameThisThreadOnce("crs-second");
    EXPECT_EQ(CurrentThreadName(), "crs-first");
  });
  t.join();
}

}  // namespace
}  // namespace crs
