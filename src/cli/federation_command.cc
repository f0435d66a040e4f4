#include "cli/federation_command.h"

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

#include "access/jwt.h"
#include "access/keys.h"
#include "core/time.h"
#include "core/ids.h"
#include "federation/outbox.h"
#include "federation/registry.h"
#include "federation/transfer_log.h"
#include "http/client.h"

namespace crs::cli {

namespace json = boost::json;

namespace {

// A short-lived administrator token of the node whose data dir this is.
Result<std::string> AdminToken(const std::string& data_dir) {
  CRS_ASSIGN_OR_RETURN(access::NodeKey key, access::LoadOrCreateNodeKey(data_dir));
  access::TokenClaims c;
  c.user = "crs-node-command";
  c.role = "system";
  c.org = "OPENCRS";
  c.ttl_seconds = 120;
  return access::MintToken(key, c, SystemClock::Get().NowMs() / 1000);
}

int Fail(const std::string& message, int code = 1) {
  std::cerr << "crs: " << message << "\n";
  return code;
}

std::string Jwks(const access::NodeKey& key) { return "{\"keys\":[" + key.PublicJwk() + "]}"; }

int NodeJwks(const NodeCommandOptions& o) {
  auto key = access::LoadOrCreateNodeKey(o.data_dir);
  if (!key.ok()) return Fail("node key: " + key.status().message());
  std::cout << Jwks(*key) << "\n";
  return 0;
}

int NodeAdd(const NodeCommandOptions& o) {
  std::ifstream in(o.jwks);
  if (!in) return Fail("cannot read " + o.jwks, 2);
  std::stringstream text;
  text << in.rdbuf();
  auto endpoint = federation::NodeEndpoint(o.ods, o.url, text.str());
  if (!endpoint.ok()) return Fail("--jwks: " + endpoint.status().message(), 2);
  auto token = AdminToken(o.data_dir);
  if (!token.ok()) return Fail(token.status().message());
  auto client = http::Client::Create(o.national);
  if (!client.ok()) return Fail("--national: " + client.status().message(), 2);
  auto r = (*client)->Send("PUT", "/Endpoint/node-" + o.ods,
                           {{"authorization", "Bearer " + *token},
                            {"content-type", "application/fhir+json"},
                            {"prefer", "return=minimal"}},
                           *endpoint, std::chrono::seconds(30));
  if (!r.ok()) return Fail(r.status().message());
  if (r->status != 200 && r->status != 201) {
    return Fail("the national node refused: HTTP " + std::to_string(r->status) + " " + r->body);
  }
  std::cout << "registered node " << o.ods << " at " << o.url << "\n";
  return 0;
}

int NodeList(const NodeCommandOptions& o) {
  auto token = AdminToken(o.data_dir);
  if (!token.ok()) return Fail(token.status().message());
  auto client = http::Client::Create(o.national);
  if (!client.ok()) return Fail("--national: " + client.status().message(), 2);
  auto r = (*client)->Send("GET", "/Endpoint?_count=1000",
                           {{"authorization", "Bearer " + *token}}, "", std::chrono::seconds(30));
  if (!r.ok()) return Fail(r.status().message());
  if (r->status != 200) return Fail("HTTP " + std::to_string(r->status) + " " + r->body);
  boost::system::error_code ec;
  json::value bundle = json::parse(r->body, ec);
  if (ec || !bundle.is_object()) return Fail("the national node answered something not JSON");
  std::cout << "ODS\tSTATUS\tURL\n";
  if (const auto* entries = bundle.as_object().if_contains("entry"); entries && entries->is_array()) {
    for (const auto& e : entries->as_array()) {
      const auto* res = e.is_object() ? e.as_object().if_contains("resource") : nullptr;
      if (res == nullptr || !res->is_object()) continue;
      const auto& o2 = res->as_object();
      const auto* id = o2.if_contains("id");
      if (id == nullptr || !id->is_string() || !id->get_string().starts_with("node-")) continue;
      auto field = [&](const char* k) {
        const auto* v = o2.if_contains(k);
        return v && v->is_string() ? std::string(v->get_string()) : std::string();
      };
      std::cout << std::string(id->get_string()).substr(5) << "\t" << field("status") << "\t"
                << field("address") << "\n";
    }
  }
  return 0;
}

}  // namespace

CLI::App* RegisterNode(CLI::App& app, NodeCommandOptions* o) {
  CLI::App* n = app.add_subcommand("node", "The node registry and this node's public keys");
  n->require_subcommand(1);
  CLI::App* jwks = n->add_subcommand("jwks", "Print this node's public key set (JWKS)");
  jwks->add_option("--data", o->data_dir, "Data directory holding keys/node-es256.pem")
      ->capture_default_str();
  CLI::App* add = n->add_subcommand(
      "add", "Register (or update) a peer node on the national node, as its administrator");
  add->add_option("--data", o->data_dir, "The national node's data directory (for its key)")
      ->capture_default_str();
  add->add_option("--national", o->national, "The national node's FHIR base URL")->required();
  add->add_option("--ods", o->ods, "The peer node's ODS code")->required();
  add->add_option("--url", o->url, "The peer node's FHIR base URL")->required();
  add->add_option("--jwks", o->jwks, "File with the peer's public keys (crs node jwks)")
      ->required();
  CLI::App* list = n->add_subcommand("list", "List the nodes registered on the national node");
  list->add_option("--data", o->data_dir, "The national node's data directory (for its key)")
      ->capture_default_str();
  list->add_option("--national", o->national, "The national node's FHIR base URL")->required();
  return n;
}

int RunNode(const CLI::App& node, const NodeCommandOptions& o) {
  if (node.got_subcommand("jwks")) return NodeJwks(o);
  if (node.got_subcommand("add")) return NodeAdd(o);
  if (node.got_subcommand("list")) return NodeList(o);
  return 2;
}

CLI::App* RegisterOutbox(CLI::App& app, OutboxCommandOptions* o) {
  CLI::App* ob = app.add_subcommand(
      "outbox", "What this node still has to tell other nodes, and what they refused");
  ob->require_subcommand(1);
  CLI::App* list = ob->add_subcommand("list", "Show delivery cursors and the dead-letter list");
  list->add_option("--data", o->data_dir, "Data directory")->capture_default_str();
  CLI::App* replay =
      ob->add_subcommand("replay", "Send dead letters again (the running node picks them up)");
  replay->add_option("--data", o->data_dir, "Data directory")->capture_default_str();
  auto* id = replay->add_option("--id", o->id, "The dead letter to replay");
  auto* transfer = replay->add_option(
      "--transfer", o->transfer,
      "The failed GP2GP transfer to ask for again (this practice's; a new transfer of the same "
      "record from the same practice)");
  auto* all = replay->add_flag("--all", o->all,
                               "Replay every dead letter, and ask again for every transfer that "
                               "failed (not those the practice rejected)");
  id->excludes(all);
  id->excludes(transfer);
  transfer->excludes(all);
  return ob;
}

int RunOutbox(const CLI::App& outbox, const OutboxCommandOptions& o) {
  auto box = federation::Outbox::Open(o.data_dir);
  if (!box.ok()) return Fail("outbox: " + box.status().message());
  if (outbox.got_subcommand("list")) {
    for (const char* feed : {"pointers", "audit", "summaries"}) {
      auto c = (*box)->Cursor(feed);
      if (!c.ok()) return Fail(c.status().message());
      std::cout << "feed " << feed << ": delivered through store seq " << *c << "\n";
    }
    auto dead = (*box)->ListDead();
    if (!dead.ok()) return Fail(dead.status().message());
    std::cout << dead->size() << " dead letter(s)\n";
    for (const auto& d : *dead) {
      std::cout << d.id << "\t" << FormatInstant(d.created_ms) << "\t" << d.feed << "\t"
                << d.method << " " << d.target << "\tattempts " << d.attempts
                << (d.replay ? "\t(replay pending)" : "") << "\n\t" << d.error << "\n";
    }
    // Transfers are stateful exchanges rather than messages: the ones that
    // failed are their dead letters (no NHS numbers: the id names them).
    auto log = federation::TransferLog::Open(o.data_dir);
    if (!log.ok()) return Fail("transfers: " + log.status().message());
    auto failed = (*log)->Failed();
    if (!failed.ok()) return Fail(failed.status().message());
    std::cout << failed->size() << " failed transfer(s)\n";
    for (const auto& t : *failed) {
      std::cout << t.id << "\t" << FormatInstant(t.updated_ms) << "\t"
                << (t.direction == "in" ? "from " : "to ") << t.peer << "\t" << t.state
                << (t.direction == "in" ? "\t(replay: --transfer " + t.id + ")"
                                        : "\t(the receiving practice asks again)")
                << "\n\t" << t.reason << "\n";
    }
    return 0;
  }
  if (outbox.got_subcommand("replay")) {
    if (o.id <= 0 && !o.all && o.transfer.empty()) {
      return Fail("say which: --id N, --transfer ID or --all", 2);
    }
    int replayed = 0;
    if (o.id > 0 || o.all) {
      auto n = (*box)->MarkReplay(o.all ? 0 : o.id);
      if (!n.ok()) return Fail(n.status().message());
      std::cout << *n << " dead letter(s) marked for replay\n";
      replayed += *n;
    }
    if (!o.transfer.empty() || o.all) {
      auto log = federation::TransferLog::Open(o.data_dir);
      if (!log.ok()) return Fail("transfers: " + log.status().message());
      std::vector<std::string> ids;
      if (!o.transfer.empty()) {
        ids.push_back(o.transfer);
      } else {
        auto failed = (*log)->Failed();
        if (!failed.ok()) return Fail(failed.status().message());
        for (const auto& t : *failed) {
          if (t.direction == "in" && t.state == "failed") ids.push_back(t.id);
        }
      }
      for (const std::string& id : ids) {
        // Transfer ids are "<this practice's ODS>-<unique id>".
        std::string ods = id.substr(0, id.find('-'));
        auto fresh = (*log)->Replay(id, ods + "-" + NewId(), SystemClock::Get().NowMs());
        if (!fresh.ok()) {
          if (!o.all) return Fail(fresh.status().message());
          std::cerr << "crs: " << id << ": " << fresh.status().message() << "\n";
          continue;
        }
        std::cout << "transfer " << id << " asked for again as " << fresh->id << "\n";
        ++replayed;
      }
    }
    return replayed > 0 || o.all ? 0 : 1;
  }
  return 2;
}

CLI::App* RegisterTransfer(CLI::App& app, TransferCommandOptions* o) {
  CLI::App* t = app.add_subcommand("transfer", "GP2GP record transfers this node takes part in");
  t->require_subcommand(1);
  CLI::App* list = t->add_subcommand(
      "list", "Show every transfer: direction, other practice, state, progress, reason");
  list->add_option("--data", o->data_dir, "Data directory")->capture_default_str();
  return t;
}

int RunTransfer(const CLI::App& transfer, const TransferCommandOptions& o) {
  if (!transfer.got_subcommand("list")) return 2;
  auto log = federation::TransferLog::Open(o.data_dir);
  if (!log.ok()) return Fail("transfers: " + log.status().message());
  auto all = (*log)->List();
  if (!all.ok()) return Fail(all.status().message());
  std::cout << all->size() << " transfer(s)\n";
  // The NHS number is left out: the transfer id names it to whoever may
  // look it up (GET Patient/<nhs>/$gp2gp).
  for (const auto& t : *all) {
    std::cout << t.id << "\t" << (t.direction == "in" ? "from " : "to ") << t.peer << "\t"
              << t.state << "\t" << t.received << "/" << t.total << " records"
              << (t.direction == "out" ? " (chunks served " + std::to_string(t.next_chunk) + "/" +
                                             std::to_string(t.chunks) + ")"
                                       : "")
              << "\twithheld " << t.withheld << "\tupdated " << FormatInstant(t.updated_ms)
              << (t.direction == "in" && federation::TransferLog::Final(t.state) && !t.notified
                      ? "\t(telling the old practice)"
                      : "")
              << "\n";
    if (!t.reason.empty()) std::cout << "\treason: " << t.reason << "\n";
    if (!t.last_error.empty()) std::cout << "\tlast error: " << t.last_error << "\n";
  }
  return 0;
}

}  // namespace crs::cli
