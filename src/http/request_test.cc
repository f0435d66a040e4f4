#include "http/request.h"

#include <gtest/gtest.h>

namespace crs::http {
namespace {

TEST(RequestTest, ParsesQueryStrings) {
  auto q = ParseQuery("a=1&b=x%20y&c=p+q&&d&e=%zz");
  ASSERT_EQ(q.size(), 5u);
  EXPECT_EQ(q[1].second, "x y");
  EXPECT_EQ(q[2].second, "p q");
  EXPECT_EQ(q[3].first, "d");
  EXPECT_EQ(q[4].second, "%zz");
  EXPECT_EQ(PercentDecode("%", false), "%");
  EXPECT_EQ(PercentDecode("a%2", false), "a%2");
}

TEST(RequestTest, HeadersAreCaseInsensitive) {
  Headers h;
  h.Add("Content-Type", "application/fhir+json");
  EXPECT_EQ(h.Get("content-type"), "application/fhir+json");
  EXPECT_TRUE(h.Has("CONTENT-TYPE"));
  EXPECT_EQ(h.Get("accept"), "");
}

}  // namespace
}  // namespace crs::http
