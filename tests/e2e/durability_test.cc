// Durability: acknowledged writes survive kill -9; a transaction is never
// partly visible; SIGTERM finishes in-flight requests and exits cleanly.
#include <signal.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "e2e/fixture.h"
#include "nhs/nhs_number.h"

namespace crs::e2e {
namespace {

namespace json = boost::json;

// Patient `part` (0..2) of transaction `n`: a test-range NHS number (a
// Patient's id), apart from the ones the server allocates to the creates.
std::string TxPatient(int n, int part) {
  return *nhs::NhsNumberFromSerial(static_cast<uint64_t>(n) * 3 + part,
                                   nhs::NhsNumberRange{9995000000, 9999999999});
}

TEST(DurabilityTest, AcknowledgedWritesSurviveKill9AndTransactionsAreAtomic) {
  ServerProcess server;
  ASSERT_TRUE(server.Start());
  std::mutex mu;
  std::vector<std::string> acked;  // "Type/id" of acknowledged creates
  std::vector<int> tx_attempted;
  std::atomic<bool> stop{false};
  std::atomic<int> tx_counter{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&, t] {
      Client c(server.port(), server.SystemToken());
      for (int i = 0; !stop; ++i) {
        if (i % 2 == 0) {
          auto r = c.Send("POST", "/fhir/Patient",
                          R"({"resourceType":"Patient","gender":"female","birthDate":"1980-01-01"})");
          if (r.status == 201) {
            std::lock_guard<std::mutex> lock(mu);
            acked.push_back(IdFromLocation(r.Header("location")));
          } else if (r.status == 0) {
            break;
          }
        } else {
          int n = tx_counter++;
          {
            std::lock_guard<std::mutex> lock(mu);
            tx_attempted.push_back(n);
          }
          std::string tx = R"({"resourceType":"Bundle","type":"transaction","entry":[)";
          for (int part : {0, 1, 2}) {
            std::string id = TxPatient(n, part);
            if (part != 0) tx += ",";
            tx += R"({"resource":{"resourceType":"Patient","id":")" + id +
                  R"("},"request":{"method":"PUT","url":"Patient/)" + id + R"("}})";
          }
          tx += "]}";
          auto r = c.Send("POST", "/fhir", tx);
          if (r.status == 200) {
            std::lock_guard<std::mutex> lock(mu);
            acked.push_back("Patient/" + TxPatient(n, 1));
          } else if (r.status == 0) {
            break;
          }
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  server.Stop(SIGKILL);
  stop = true;
  for (auto& w : writers) w.join();
  ASSERT_GT(acked.size(), 50u) << "too few writes to make the test meaningful";

  ASSERT_TRUE(server.Start());
  Client c(server.port(), server.SystemToken());
  for (const auto& ref : acked) {
    EXPECT_EQ(c.Send("GET", "/fhir/" + ref).status, 200) << "lost acknowledged write " << ref;
  }
  int complete = 0;
  for (int n : tx_attempted) {
    int present = 0;
    for (int part : {0, 1, 2}) {
      present += c.Send("GET", "/fhir/Patient/" + TxPatient(n, part)).status == 200;
    }
    EXPECT_TRUE(present == 0 || present == 3) << "transaction " << n << " partly visible";
    complete += present == 3;
  }
  EXPECT_GT(complete, 0);
}

TEST(DurabilityTest, SigtermFinishesInFlightRequestsAndExitsCleanly) {
  ServerProcess server;
  ASSERT_TRUE(server.Start());
  std::atomic<int> ok{0}, failed_midway{0};
  std::vector<std::thread> clients;
  std::mutex mu;
  std::vector<std::string> acked;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&] {
      Client c(server.port(), server.SystemToken());
      for (int i = 0; i < 400; ++i) {
        auto r = c.Send("POST", "/fhir/Patient", R"({"resourceType":"Patient"})");
        if (r.status == 201) {
          ++ok;
          std::lock_guard<std::mutex> lock(mu);
          acked.push_back(IdFromLocation(r.Header("location")));
        } else if (r.status != 0) {
          ++failed_midway;  // an answered error would mean a request was cut short
        } else {
          break;  // connection closed by the stopping server: not an in-flight request
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(server.Stop(SIGTERM), 0);
  for (auto& t : clients) t.join();
  EXPECT_EQ(failed_midway, 0);
  ASSERT_GT(ok, 0);
  ASSERT_TRUE(server.Start());
  Client c(server.port(), server.SystemToken());
  for (const auto& ref : acked) EXPECT_EQ(c.Send("GET", "/fhir/" + ref).status, 200) << ref;
}

}  // namespace
}  // namespace crs::e2e
