#include "api/web_ui.h"

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/outcome.h"
#include "api/resource_io.h"

namespace crs::api {

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

// No inline script or style, nothing from another origin: the UI's bundle,
// stylesheet and images come from this server, and it talks only to it.
constexpr const char* kCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

const char* ContentTypeOf(std::string_view name) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
      {".woff2", "font/woff2"},
  };
  for (const auto& [ext, type] : kTypes) {
    if (name.ends_with(ext)) return type;
  }
  return nullptr;
}

// The path below the UI directory a request names, or nullopt when it
// could reach outside it or a hidden file ("..", ".", ".git", "\\", NUL).
std::optional<std::string> SafeRelative(std::string_view path) {
  if (path == "/" || path.empty()) return std::string("index.html");
  if (!path.starts_with("/")) return std::nullopt;
  std::string rel;
  path.remove_prefix(1);
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    if (part.empty() || part.front() == '.' ||
        part.find_first_of(std::string_view("\\\0:", 3)) != std::string_view::npos) {
      return std::nullopt;
    }
    if (!rel.empty()) rel += '/';
    rel += part;
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
    if (path.empty()) return std::nullopt;  // a trailing slash names no file
  }
  return rel;
}

void NotFound(http::Response* out) { SetError(Status::NotFound("no such page"), out); }

void ServeFile(const std::string& dir, std::string_view path, http::Response* out) {
  auto rel = SafeRelative(path);
  const char* type = rel ? ContentTypeOf(*rel) : nullptr;
  if (!type || dir.empty()) return NotFound(out);
  std::error_code ec;
  fs::path root = fs::canonical(dir, ec);
  if (ec) return NotFound(out);
  fs::path file = fs::canonical(root / *rel, ec);
  // A symbolic link may not lead out of the UI directory.
  auto [r, f] = std::mismatch(root.begin(), root.end(), file.begin(), file.end());
  if (ec || r != root.end() || !fs::is_regular_file(file, ec)) return NotFound(out);
  std::ifstream in(file, std::ios::binary);
  std::ostringstream body;
  body << in.rdbuf();
  if (!in.good() && !in.eof()) return NotFound(out);
  out->status = 200;
  out->SetHeader("Content-Type", type);
  // The page itself is always revalidated, so a new build is picked up; the
  // bundle's names do not change between builds either, so the same holds.
  out->SetHeader("Cache-Control", "no-cache");
  out->body = body.str();
}

json::object UserJson(const DemoUser& u) {
  json::object o;
  o["id"] = u.id;
  o["label"] = u.label;
  o["name"] = u.name;
  o["role"] = u.role;
  if (!u.org.empty()) o["org"] = u.org;
  if (!u.patient.empty()) o["patient"] = u.patient;
  return o;
}

void DemoUsers(const ApiOptions& options, http::Response* out) {
  json::array users;
  for (const auto& u : options.demo_users) users.push_back(UserJson(u));
  json::object body;
  body["users"] = std::move(users);
  out->status = 200;
  out->SetHeader("Content-Type", "application/json");
  out->body = json::serialize(body);
}

// POST /demo/token {"user": "<id>"}: a token for that demo user.
void DemoToken(const ApiOptions& options, const http::Request& request, http::Response* out,
               DemoSignIn* sign_in) {
  auto body = ParseJsonBody(request.body, 4);
  if (!body.ok()) return SetError(body.status(), out);
  const json::object* o = body->if_object();
  const json::value* id = o ? o->if_contains("user") : nullptr;
  if (!id || !id->is_string()) return SetError(Status::Invalid("give {\"user\": \"<id>\"}"), out);
  for (const auto& u : options.demo_users) {
    if (u.id != id->get_string()) continue;
    auto token = options.mint_demo_token(u);
    if (!token.ok()) return SetError(token.status(), out);
    json::object answer;
    answer["token"] = *token;
    answer["user"] = UserJson(u);
    out->status = 200;
    out->SetHeader("Content-Type", "application/json");
    out->body = json::serialize(answer);
    sign_in->issued = &u;
    return;
  }
  SetError(Status::NotFound("no such demo user"), out);
}

}  // namespace

void SetUiSecurityHeaders(http::Response* out) {
  out->SetHeader("Content-Security-Policy", kCsp);
  out->SetHeader("X-Content-Type-Options", "nosniff");
  out->SetHeader("Referrer-Policy", "no-referrer");
  out->SetHeader("X-Frame-Options", "DENY");
  out->SetHeader("Cross-Origin-Opener-Policy", "same-origin");
  out->SetHeader("Cross-Origin-Resource-Policy", "same-origin");
}

void ServeWeb(const ApiOptions& options, const http::Request& request, http::Response* out,
              DemoSignIn* sign_in) {
  DemoSignIn ignored;
  if (sign_in == nullptr) sign_in = &ignored;
  const std::string& m = request.method;
  bool get = m == "GET" || m == "HEAD";
  std::string_view path = request.path;
  bool demo = !options.demo_users.empty() && options.mint_demo_token;
  if (demo && path == "/demo/users") {
    if (get) {
      DemoUsers(options, out);
    } else {
      SetError(Status(Code::kMethodNotAllowed, "/demo/users takes GET"), out);
    }
  } else if (demo && path == "/demo/token") {
    sign_in->asked = true;
    if (m == "POST") {
      DemoToken(options, request, out, sign_in);
    } else {
      SetError(Status(Code::kMethodNotAllowed, "/demo/token takes POST"), out);
    }
    out->SetHeader("Cache-Control", "no-store");
  } else if (!get) {
    NotFound(out);  // the UI is read-only; nothing else lives outside /fhir
  } else {
    ServeFile(options.ui_dir, path, out);
  }
  SetUiSecurityHeaders(out);
}

}  // namespace crs::api
