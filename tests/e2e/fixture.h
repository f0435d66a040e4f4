// A GoogleTest fixture that starts a fresh server for each test.
#pragma once

#include <gtest/gtest.h>

#include "e2e/harness.h"

namespace crs::e2e {

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start(ExtraArgs())) << "crs serve did not start";
    client_ = std::make_unique<Client>(server_.port(), server_.SystemToken());
  }
  virtual std::vector<std::string> ExtraArgs() const { return {}; }

  HttpResult Get(const std::string& path,
                 const std::vector<std::pair<std::string, std::string>>& h = {}) {
    return client_->Send("GET", path, "", h);
  }
  HttpResult Post(const std::string& path, const std::string& body,
                  const std::vector<std::pair<std::string, std::string>>& h = {}) {
    return client_->Send("POST", path, body, h);
  }
  HttpResult Put(const std::string& path, const std::string& body,
                 const std::vector<std::pair<std::string, std::string>>& h = {}) {
    return client_->Send("PUT", path, body, h);
  }
  // The issue codes of an OperationOutcome body ("" when not an OperationOutcome).
  static std::string OutcomeCode(const HttpResult& r) {
    auto v = r.Json();
    if (!v.is_object() || v.as_object().if_contains("resourceType") == nullptr ||
        v.at("resourceType") != "OperationOutcome") {
      return "";
    }
    return std::string(v.at("issue").at(0).at("code").as_string());
  }

  ServerProcess server_;
  std::unique_ptr<Client> client_;
};

}  // namespace crs::e2e
