// The NHS-number allocator: distinct, valid numbers from the configured
// range under concurrency, across restarts, skipping numbers already taken.
#include "api/nhs_allocator.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <thread>

namespace crs::api {
namespace {

class NhsNumberAllocatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/crs-alloc-XXXXXX";
    dir_ = mkdtemp(tmpl);
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    store_.reset();
    store::StoreOptions o;
    o.data_dir = dir_;
    auto s = store::OpenStore(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  void PutPatient(const std::string& id) {
    store::WriteBatch b;
    store::Write w;
    w.type = "Patient";
    w.id = id;
    w.body = R"({"resourceType":"Patient","id":")" + id + R"("})";
    b.writes.push_back(w);
    ASSERT_TRUE(store_->Commit(b).ok());
  }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(NhsNumberAllocatorTest, ConcurrentAllocatorsNeverRepeatANumber) {
  // Two allocators over one store stand for two nodes (or a restart).
  NhsNumberAllocator a(*store_, nhs::kTestNhsNumberRange, 16);
  NhsNumberAllocator b(*store_, nhs::kTestNhsNumberRange, 16);
  constexpr int kThreads = 8, kEach = 100;
  std::vector<std::vector<std::string>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      NhsNumberAllocator& alloc = t % 2 ? a : b;
      for (int i = 0; i < kEach; ++i) {
        auto n = alloc.Next();
        if (n.ok()) got[t].push_back(*n);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> all;
  for (const auto& g : got) {
    EXPECT_EQ(g.size(), static_cast<size_t>(kEach));
    for (const auto& n : g) {
      EXPECT_TRUE(nhs::IsValidNhsNumber(n)) << n;
      EXPECT_EQ(n.substr(0, 3), "999") << n;
      EXPECT_TRUE(all.insert(n).second) << "handed out twice: " << n;
    }
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kEach));
}

TEST_F(NhsNumberAllocatorTest, SkipsTakenNumbersAndContinuesAfterRestart) {
  // 9990000018 and 9990000026 are the first two valid numbers of the range.
  PutPatient("9990000018");
  std::string first;
  {
    NhsNumberAllocator alloc(*store_, nhs::kTestNhsNumberRange, 4);
    first = *alloc.Next();
    EXPECT_EQ(first, "9990000026");
    EXPECT_EQ(*alloc.Next(), "9990000034");
  }
  Reopen();
  NhsNumberAllocator again(*store_, nhs::kTestNhsNumberRange, 4);
  auto next = again.Next();
  ASSERT_TRUE(next.ok());
  // The rest of the first block was reserved, and so was the block after it
  // (reserved ahead once the first was half used): neither is ever used, and
  // the new process starts at the third block (serial 8).
  EXPECT_EQ(*next, *nhs::NhsNumberFromSerial(8));
}

// The next block is reserved while the current one still has numbers, so
// that no caller waits on a reservation's commit when a block runs out
// (every create of a busy node did, once per block).
TEST_F(NhsNumberAllocatorTest, ReservesTheNextBlockBeforeTheCurrentRunsOut) {
  auto number = [](uint64_t serial) { return *nhs::NhsNumberFromSerial(serial); };
  NhsNumberAllocator alloc(*store_, nhs::kTestNhsNumberRange, 16);
  for (uint64_t serial = 0; serial < 8; ++serial) EXPECT_EQ(*alloc.Next(), number(serial));
  // Half of the first block is used: the second (16-31) is reserved too,
  // on a thread of its own.
  alloc.AwaitRefill();
  const std::string counter = NhsNumberAllocator::SequenceName(nhs::kTestNhsNumberRange);
  auto peek = store_->ReserveSequence(counter, 1);
  ASSERT_TRUE(peek.ok());
  EXPECT_EQ(*peek, 32);
  // The numbers continue without a gap into the block reserved ahead.
  for (uint64_t serial = 8; serial < 20; ++serial) EXPECT_EQ(*alloc.Next(), number(serial));
}

// A population imported into the range (crs gen + crs import use the test
// range too) costs a walk over its numbers in index order, once: skipping
// them one read at a time gave up after 100,000 and made every create pay
// for the whole run.
TEST_F(NhsNumberAllocatorTest, WalksPastARunOfTakenNumbersAtOnce) {
  auto number = [](uint64_t serial) { return *nhs::NhsNumberFromSerial(serial); };
  store::WriteBatch b;
  auto put = [&](uint64_t serial) {
    store::Write w;
    w.type = "Patient";
    w.id = number(serial);
    w.body = R"({"resourceType":"Patient"})";
    b.writes.push_back(w);
  };
  for (uint64_t serial = 0; serial < 120000; ++serial) put(serial);  // a dense run
  put(120001);                                                      // then a hole
  put(500000);                                                      // far above
  ASSERT_TRUE(store_->Commit(b).ok());
  NhsNumberAllocator alloc(*store_, nhs::kTestNhsNumberRange, 16);
  auto first = alloc.Next();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, number(120000));  // the first free number, not past 500000
  auto second = alloc.Next();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, number(120002));  // 120001 is taken
  // Another process sharing the store continues above them too, and its
  // concurrent requests walk the run once: each would otherwise walk it.
  NhsNumberAllocator other(*store_, nhs::kTestNhsNumberRange, 16);
  std::vector<std::thread> threads;
  std::vector<std::string> got(16);
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      auto n = other.Next();
      if (n.ok()) got[t] = *n;
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> distinct(got.begin(), got.end());
  EXPECT_EQ(distinct.size(), 16u);
  for (const auto& n : got) EXPECT_GT(n, number(120002));
}

// A block is checked once when it is reserved: a number a PUT takes after
// the check is handed out (the create's commit then conflicts and the API
// retries with the next number; DemographicsTest.PostAllocates... covers
// that) until the check is older than the recheck interval.
TEST_F(NhsNumberAllocatorTest, ChecksTheBlockOnceAndAgainWhenTheCheckIsOld) {
  auto number = [](uint64_t serial) { return *nhs::NhsNumberFromSerial(serial); };
  PutPatient(number(2));
  NhsNumberAllocator trusting(*store_, nhs::kTestNhsNumberRange, 16, /*recheck_ms=*/3600000);
  EXPECT_EQ(*trusting.Next(), number(0));
  PutPatient(number(1));  // after the check
  EXPECT_EQ(*trusting.Next(), number(1));
  EXPECT_EQ(*trusting.Next(), number(3));  // taken at the check

  NhsNumberAllocator fresh(*store_, nhs::kTestNhsNumberRange, 16, /*recheck_ms=*/0);
  EXPECT_EQ(*fresh.Next(), number(16));  // the next block
  PutPatient(number(17));
  PutPatient(number(18));
  EXPECT_EQ(*fresh.Next(), number(19));
}

TEST(NhsSerialTest, SerialOfNumberInvertsNumberFromSerial) {
  for (uint64_t serial : {0ull, 1ull, 7ull, 1000ull, 150000ull, 900000ull}) {
    auto n = nhs::NhsNumberFromSerial(serial);
    ASSERT_TRUE(n.ok()) << serial;
    auto back = nhs::SerialOfNhsNumber(std::stoull(*n));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, serial) << *n;
  }
  EXPECT_EQ(nhs::SerialOfNhsNumber(1234567890).status().code(), Code::kInvalid);
}

TEST_F(NhsNumberAllocatorTest, ExhaustedRangeIsUnavailable) {
  NhsNumberAllocator alloc(*store_, nhs::NhsNumberRange{9990000010, 9990000030}, 64);
  EXPECT_EQ(*alloc.Next(), "9990000018");
  EXPECT_EQ(*alloc.Next(), "9990000026");
  EXPECT_EQ(alloc.Next().status().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace crs::api
