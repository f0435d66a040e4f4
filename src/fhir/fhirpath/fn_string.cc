// String functions. Positions and lengths count Unicode code points, not bytes.
// Regular expressions use Boost.Regex (Perl syntax, '.' matching newlines as the
// FHIRPath specification asks); its exceptions are caught here.
#include <boost/regex.hpp>

#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "fhir/fhirpath/evaluator.h"

namespace crs::fhirpath {
namespace {

bool IsContinuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Byte offsets where each code point starts, plus the total length at the end.
std::vector<size_t> CodePointStarts(std::string_view s) {
  std::vector<size_t> starts;
  starts.reserve(s.size() + 1);
  for (size_t i = 0; i < s.size(); ++i) {
    if (!IsContinuation(s[i])) starts.push_back(i);
  }
  starts.push_back(s.size());
  return starts;
}

size_t CodePointCount(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += IsContinuation(c) ? 0 : 1;
  return n;
}

// A result no longer than the input needs no check; one that may grow does.
Collection StringResult(std::string s) { return Collection{Item::String(std::move(s))}; }

Result<Collection> GrownStringResult(std::string s) {
  CRS_RETURN_IF_ERROR(CheckStringLength(s.size()));
  return Collection{Item::String(std::move(s))};
}

// Compiled patterns, shared by all threads: invariants and search parameters use a
// handful of fixed patterns, so a small bounded cache avoids recompiling per call.
class RegexCache {
 public:
  Result<std::shared_ptr<const boost::regex>> Get(std::string_view pattern) {
    std::string key(pattern);
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = map_.find(key);
      if (it != map_.end()) return it->second;
    }
    std::shared_ptr<const boost::regex> re;
    try {
      re = std::make_shared<const boost::regex>(key, boost::regex::perl);
    } catch (const std::exception& e) {
      return EvalError("invalid regular expression '" + key + "': " + e.what());
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (map_.size() >= kCapacity) map_.clear();
    map_.emplace(std::move(key), re);
    return re;
  }

 private:
  static constexpr size_t kCapacity = 256;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const boost::regex>> map_;  // GUARDED_BY(mu_)
};

RegexCache& Regexes() {
  static RegexCache* cache = new RegexCache();  // leaked: outlives all threads
  return *cache;
}

Result<bool> RegexMatch(std::string_view text, std::string_view pattern, bool full) {
  CRS_ASSIGN_OR_RETURN(std::shared_ptr<const boost::regex> re, Regexes().Get(pattern));
  try {
    if (full) return boost::regex_match(text.begin(), text.end(), *re);
    return boost::regex_search(text.begin(), text.end(), *re);
  } catch (const std::exception& e) {
    return EvalError(std::string("regular expression failed: ") + e.what());
  }
}

Result<std::string> RegexReplace(std::string_view text, std::string_view pattern,
                                 std::string_view replacement) {
  CRS_ASSIGN_OR_RETURN(std::shared_ptr<const boost::regex> re, Regexes().Get(pattern));
  try {
    std::string out;
    boost::regex_replace(std::back_inserter(out), text.begin(), text.end(), *re,
                         std::string(replacement), boost::format_perl);
    return out;
  } catch (const std::exception& e) {
    return EvalError(std::string("regular expression failed: ") + e.what());
  }
}

std::string ReplaceAll(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  // Stop early once the result is too long to return anyway.
  auto too_long = [&] { return out.size() > kMaxStringLength; };
  if (from.empty()) {
    // Between every character, and at both ends.
    std::vector<size_t> starts = CodePointStarts(s);
    out.append(to);
    for (size_t i = 0; i + 1 < starts.size() && !too_long(); ++i) {
      out.append(s.substr(starts[i], starts[i + 1] - starts[i]));
      out.append(to);
    }
    return out;
  }
  size_t pos = 0;
  while (!too_long()) {
    size_t hit = s.find(from, pos);
    if (hit == std::string_view::npos) break;
    out.append(s.substr(pos, hit - pos));
    out.append(to);
    pos = hit + from.size();
  }
  out.append(s.substr(pos));
  return out;
}

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64Encode(std::string_view in, bool url) {
  std::string out;
  size_t i = 0;
  auto ch = [&](int v) {
    char c = kBase64[v];
    if (url && c == '+') c = '-';
    if (url && c == '/') c = '_';
    out.push_back(c);
  };
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) | static_cast<unsigned char>(in[i + 2]);
    ch((v >> 18) & 63);
    ch((v >> 12) & 63);
    ch((v >> 6) & 63);
    ch(v & 63);
  }
  if (i + 1 == in.size()) {
    uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    ch((v >> 18) & 63);
    ch((v >> 12) & 63);
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    ch((v >> 18) & 63);
    ch((v >> 12) & 63);
    ch((v >> 6) & 63);
    out += "=";
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view in) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+' || c == '-') v = 62;
    else if (c == '/' || c == '_') v = 63;
    else if (c == '=') break;
    else return std::nullopt;
    buffer = (buffer << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

std::string HexEncode(std::string_view in) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : in) {
    out.push_back(kHex[(static_cast<unsigned char>(c) >> 4) & 15]);
    out.push_back(kHex[static_cast<unsigned char>(c) & 15]);
  }
  return out;
}

std::optional<std::string> HexDecode(std::string_view in) {
  if (in.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < in.size(); i += 2) {
    int hi = nibble(in[i]);
    int lo = nibble(in[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

std::string HtmlEscape(std::string_view in) {
  std::string out;
  for (char c : in) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string HtmlUnescape(std::string_view in) {
  static constexpr std::pair<std::string_view, char> kEntities[] = {
      {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''},
      {"&apos;", '\''}};
  std::string out;
  for (size_t i = 0; i < in.size();) {
    bool matched = false;
    if (in[i] == '&') {
      for (const auto& [entity, c] : kEntities) {
        if (in.substr(i, entity.size()) == entity) {
          out.push_back(c);
          i += entity.size();
          matched = true;
          break;
        }
      }
    }
    if (!matched) out.push_back(in[i++]);
  }
  return out;
}

std::string JsonEscape(std::string_view in) {
  std::string out;
  for (char c : in) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string JsonUnescape(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '\\' || i + 1 >= in.size()) {
      out.push_back(in[i]);
      continue;
    }
    char e = in[++i];
    switch (e) {
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      default: out.push_back(e);
    }
  }
  return out;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

// String argument i; nullopt when it evaluated to empty.
Result<std::optional<std::string_view>> StringArg(const Node& n, Args args, size_t i) {
  return SingleString(args[i], n.name + "() argument");
}

Result<Collection> Join(const Node& n, Span input, Args args) {
  std::string sep;
  if (!n.args.empty()) {
    CRS_ASSIGN_OR_RETURN(std::optional<std::string_view> s, StringArg(n, args, 0));
    if (s) sep = *s;
  }
  std::string out;
  for (size_t i = 0; i < input.size(); ++i) {
    CRS_ASSIGN_OR_RETURN(std::optional<std::string_view> s, SingleString(input.subspan(i, 1), "join()"));
    if (i > 0) out += sep;
    if (s) out += *s;
    CRS_RETURN_IF_ERROR(CheckStringLength(out.size()));
  }
  return GrownStringResult(std::move(out));
}

Result<Collection> Substring(std::string_view s, Args args) {
  CRS_ASSIGN_OR_RETURN(std::optional<int64_t> start, SingleInteger(args[0], "substring() start"));
  if (!start) return Collection();
  std::vector<size_t> starts = CodePointStarts(s);
  int64_t length = static_cast<int64_t>(starts.size()) - 1;
  if (*start < 0 || *start >= length) return Collection();
  int64_t count = length - *start;
  if (args.size() > 1) {
    CRS_ASSIGN_OR_RETURN(std::optional<int64_t> len, SingleInteger(args[1], "substring() length"));
    if (len) count = std::max<int64_t>(0, std::min(count, *len));
  }
  size_t from = starts[static_cast<size_t>(*start)];
  size_t to = starts[static_cast<size_t>(*start + count)];
  return StringResult(std::string(s.substr(from, to - from)));
}

// toChars(), and split('') which is the same thing.
Collection Chars(std::string_view s) {
  std::vector<size_t> starts = CodePointStarts(s);
  Collection out;
  for (size_t i = 0; i + 1 < starts.size(); ++i) {
    out.push_back(Item::String(std::string(s.substr(starts[i], starts[i + 1] - starts[i]))));
  }
  return out;
}

Collection Split(std::string_view s, std::string_view separator) {
  if (separator.empty()) return Chars(s);
  Collection out;
  size_t pos = 0;
  while (true) {
    size_t hit = s.find(separator, pos);
    size_t len = hit == std::string_view::npos ? std::string_view::npos : hit - pos;
    out.push_back(Item::String(std::string(s.substr(pos, len))));
    if (hit == std::string_view::npos) break;
    pos = hit + separator.size();
  }
  return out;
}

// encode()/decode() (base64, urlbase64, hex) and escape()/unescape() (html, json).
Result<Collection> Codec(const Node& n, std::string_view s, std::string_view format) {
  bool forward = n.fn == Fn::kEncode || n.fn == Fn::kEscape;
  std::optional<std::string> out;
  if (n.fn == Fn::kEncode || n.fn == Fn::kDecode) {
    if (format == "base64" || format == "urlbase64") {
      out = forward ? std::optional(Base64Encode(s, format == "urlbase64")) : Base64Decode(s);
    } else if (format == "hex") {
      out = forward ? std::optional(HexEncode(s)) : HexDecode(s);
    } else {
      return EvalError(n.name + "() does not know the format '" + std::string(format) + "'");
    }
  } else if (format == "html") {
    out = forward ? HtmlEscape(s) : HtmlUnescape(s);
  } else if (format == "json") {
    out = forward ? JsonEscape(s) : JsonUnescape(s);
  } else {
    return EvalError(n.name + "() does not know the target '" + std::string(format) + "'");
  }
  if (!out) return Collection();
  return GrownStringResult(std::move(*out));
}

}  // namespace

Result<Collection> CallString(Evaluator& ev, const Node& n, Span input, Args args,
                              const Scope& scope) {
  if (n.fn == Fn::kJoin) return Join(n, input, args);
  CRS_ASSIGN_OR_RETURN(std::optional<std::string_view> in, SingleString(input, n.name + "()"));
  if (!in) return Collection();
  std::string_view s = *in;
  // Arguments; any empty argument makes the result empty.
  std::optional<std::string_view> a0, a1;
  switch (n.fn) {
    case Fn::kIndexOf: case Fn::kStartsWith: case Fn::kEndsWith: case Fn::kContainsStr:
    case Fn::kMatches: case Fn::kMatchesFull: case Fn::kSplit: case Fn::kEncode:
    case Fn::kDecode: case Fn::kEscape: case Fn::kUnescape: case Fn::kReplace:
    case Fn::kReplaceMatches: {
      CRS_ASSIGN_OR_RETURN(a0, StringArg(n, args, 0));
      if (!a0) return Collection();
      if (n.args.size() > 1) {
        CRS_ASSIGN_OR_RETURN(a1, StringArg(n, args, 1));
        if (!a1) return Collection();
      }
      break;
    }
    default: break;
  }
  switch (n.fn) {
    case Fn::kIndexOf: {
      size_t pos = s.find(*a0);
      if (pos == std::string_view::npos) return Collection{Item::Integer(-1)};
      return Collection{Item::Integer(static_cast<int64_t>(CodePointCount(s.substr(0, pos))))};
    }
    case Fn::kSubstring: return Substring(s, args);
    case Fn::kStartsWith: return BooleanResult(s.substr(0, a0->size()) == *a0);
    case Fn::kEndsWith:
      return BooleanResult(s.size() >= a0->size() && s.substr(s.size() - a0->size()) == *a0);
    case Fn::kContainsStr: return BooleanResult(s.find(*a0) != std::string_view::npos);
    case Fn::kUpper:
    case Fn::kLower: {
      std::string out(s);
      for (char& c : out) {
        if (n.fn == Fn::kUpper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        if (n.fn == Fn::kLower && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
      return StringResult(std::move(out));
    }
    case Fn::kReplace: return GrownStringResult(ReplaceAll(s, *a0, *a1));
    case Fn::kMatches:
    case Fn::kMatchesFull: {
      CRS_ASSIGN_OR_RETURN(bool m, RegexMatch(s, *a0, n.fn == Fn::kMatchesFull));
      return BooleanResult(m);
    }
    case Fn::kReplaceMatches: {
      if (a0->empty()) return StringResult(std::string(s));
      if ((s.size() + 1) * a1->size() > 64 * kMaxStringLength) {
        return EvalError("replaceMatches() result could exceed the string limit");
      }
      CRS_ASSIGN_OR_RETURN(std::string out, RegexReplace(s, *a0, *a1));
      return GrownStringResult(std::move(out));
    }
    case Fn::kLength: return Collection{Item::Integer(static_cast<int64_t>(CodePointCount(s)))};
    case Fn::kToChars: {
      Collection out = Chars(s);
      CRS_RETURN_IF_ERROR(ev.Charge(out.size()));
      return out;
    }
    case Fn::kTrim: {
      size_t b = 0, e = s.size();
      while (b < e && IsSpace(s[b])) ++b;
      while (e > b && IsSpace(s[e - 1])) --e;
      return StringResult(std::string(s.substr(b, e - b)));
    }
    case Fn::kSplit: {
      Collection out = Split(s, *a0);
      CRS_RETURN_IF_ERROR(ev.Charge(out.size()));
      return out;
    }
    case Fn::kEncode:
    case Fn::kDecode:
    case Fn::kEscape:
    case Fn::kUnescape: return Codec(n, s, *a0);
    default: break;
  }
  return EvalError("function " + n.name + " is not implemented");
}

}  // namespace crs::fhirpath
