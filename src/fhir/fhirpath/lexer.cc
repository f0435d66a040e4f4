#include "fhir/fhirpath/lexer.h"

namespace crs::fhirpath {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentPart(char c) { return IsIdentStart(c) || IsDigit(c); }

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  Result<std::vector<Token>> Run() {
    std::vector<Token> out;
    while (true) {
      CRS_RETURN_IF_ERROR(SkipSpaceAndComments());
      Token t;
      t.pos = static_cast<uint32_t>(i_);
      if (i_ >= s_.size()) {
        out.push_back(std::move(t));
        return out;
      }
      CRS_RETURN_IF_ERROR(Next(&t));
      out.push_back(std::move(t));
    }
  }

 private:
  Status Error(size_t pos, std::string_view what) const {
    return Status::Invalid("FHIRPath syntax error at offset " + std::to_string(pos) + ": " +
                           std::string(what));
  }

  char Peek(size_t ahead = 0) const { return i_ + ahead < s_.size() ? s_[i_ + ahead] : '\0'; }

  Status SkipSpaceAndComments() {
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f') {
        ++i_;
      } else if (c == '/' && Peek(1) == '/') {
        while (i_ < s_.size() && s_[i_] != '\n') ++i_;
      } else if (c == '/' && Peek(1) == '*') {
        size_t end = s_.find("*/", i_ + 2);
        if (end == std::string_view::npos) return Error(i_, "unterminated comment");
        i_ = end + 2;
      } else {
        break;
      }
    }
    return Status::Ok();
  }

  Status Next(Token* t) {
    char c = s_[i_];
    if (IsIdentStart(c)) {
      size_t start = i_;
      while (i_ < s_.size() && IsIdentPart(s_[i_])) ++i_;
      t->kind = Tok::kIdentifier;
      t->text = std::string(s_.substr(start, i_ - start));
      return Status::Ok();
    }
    if (IsDigit(c)) return Number(t);
    switch (c) {
      case '\'': t->kind = Tok::kString; return Quoted('\'', &t->text);
      case '`': t->kind = Tok::kDelimited; return Quoted('`', &t->text);
      case '@': return DateTime(t);
      case '$': {
        size_t start = ++i_;
        while (i_ < s_.size() && IsIdentPart(s_[i_])) ++i_;
        t->kind = Tok::kSpecial;
        t->text = std::string(s_.substr(start, i_ - start));
        if (t->text != "this" && t->text != "index" && t->text != "total") {
          return Error(start - 1, "unknown special variable $" + t->text);
        }
        return Status::Ok();
      }
      case '%': {
        ++i_;
        t->kind = Tok::kVariable;
        if (Peek() == '`') return Quoted('`', &t->text);
        if (Peek() == '\'') return Quoted('\'', &t->text);
        size_t start = i_;
        if (!IsIdentStart(Peek())) return Error(start, "expected a variable name after %");
        while (i_ < s_.size() && IsIdentPart(s_[i_])) ++i_;
        t->text = std::string(s_.substr(start, i_ - start));
        return Status::Ok();
      }
      default: break;
    }
    return Punctuation(t);
  }

  Status Punctuation(Token* t) {
    char c = s_[i_];
    char n = Peek(1);
    auto one = [&](Tok k) {
      t->kind = k;
      ++i_;
      return Status::Ok();
    };
    auto two = [&](Tok k) {
      t->kind = k;
      i_ += 2;
      return Status::Ok();
    };
    switch (c) {
      case '.': return one(Tok::kDot);
      case '[': return one(Tok::kLBracket);
      case ']': return one(Tok::kRBracket);
      case '(': return one(Tok::kLParen);
      case ')': return one(Tok::kRParen);
      case '{': return one(Tok::kLBrace);
      case '}': return one(Tok::kRBrace);
      case ',': return one(Tok::kComma);
      case '+': return one(Tok::kPlus);
      case '-': return one(Tok::kMinus);
      case '*': return one(Tok::kStar);
      case '/': return one(Tok::kSlash);
      case '&': return one(Tok::kAmp);
      case '|': return one(Tok::kPipe);
      case '=': return one(Tok::kEq);
      case '~': return one(Tok::kTilde);
      case '<': return n == '=' ? two(Tok::kLe) : one(Tok::kLt);
      case '>': return n == '=' ? two(Tok::kGe) : one(Tok::kGt);
      case '!':
        if (n == '=') return two(Tok::kNe);
        if (n == '~') return two(Tok::kNotTilde);
        break;
      default: break;
    }
    return Error(i_, std::string("unexpected character '") + c + "'");
  }

  Status Number(Token* t) {
    size_t start = i_;
    while (i_ < s_.size() && IsDigit(s_[i_])) ++i_;
    if (Peek() == '.' && IsDigit(Peek(1))) {
      ++i_;
      while (i_ < s_.size() && IsDigit(s_[i_])) ++i_;
    }
    t->kind = Tok::kNumber;
    t->text = std::string(s_.substr(start, i_ - start));
    return Status::Ok();
  }

  bool TakeDigits(int n) {
    for (int k = 0; k < n; ++k) {
      if (!IsDigit(Peek(k))) return false;
    }
    i_ += n;
    return true;
  }

  void TakeTime() {
    if (!TakeDigits(2)) return;
    if (Peek() == ':' && IsDigit(Peek(1))) {
      ++i_;
      if (!TakeDigits(2)) return;
      if (Peek() == ':' && IsDigit(Peek(1))) {
        ++i_;
        if (!TakeDigits(2)) return;
        if (Peek() == '.' && IsDigit(Peek(1))) {
          ++i_;
          while (IsDigit(Peek())) ++i_;
        }
      }
    }
    if (Peek() == 'Z') {
      ++i_;
    } else if ((Peek() == '+' || Peek() == '-') && IsDigit(Peek(1)) && IsDigit(Peek(2)) &&
               Peek(3) == ':' && IsDigit(Peek(4)) && IsDigit(Peek(5))) {
      i_ += 6;
    }
  }

  Status DateTime(Token* t) {
    size_t start = ++i_;
    if (Peek() == 'T') {
      ++i_;
      TakeTime();
    } else {
      if (!TakeDigits(4)) return Error(start - 1, "malformed date/time literal");
      if (Peek() == '-' && IsDigit(Peek(1))) {
        ++i_;
        TakeDigits(2);
        if (Peek() == '-' && IsDigit(Peek(1))) {
          ++i_;
          TakeDigits(2);
        }
      }
      if (Peek() == 'T') {
        ++i_;
        if (IsDigit(Peek())) TakeTime();
      }
    }
    t->kind = Tok::kDateTime;
    t->text = std::string(s_.substr(start, i_ - start));
    return Status::Ok();
  }

  Status Quoted(char quote, std::string* out) {
    size_t start = i_++;
    while (true) {
      if (i_ >= s_.size()) return Error(start, "unterminated string or identifier");
      char c = s_[i_++];
      if (c == quote) return Status::Ok();
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (i_ >= s_.size()) return Error(start, "unterminated escape");
      char e = s_[i_++];
      switch (e) {
        case '\'': case '"': case '`': case '\\': case '/': out->push_back(e); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u': {
          uint32_t cp;
          if (!Hex4(&cp)) return Error(i_ - 2, "malformed \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF && Peek() == '\\' && Peek(1) == 'u') {
            size_t save = i_;
            i_ += 2;
            uint32_t low;
            if (Hex4(&low) && low >= 0xDC00 && low <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            } else {
              i_ = save;
            }
          }
          AppendUtf8(cp, out);
          break;
        }
        default: return Error(i_ - 2, std::string("unknown escape \\") + e);
      }
    }
  }

  bool Hex4(uint32_t* out) {
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = Peek(k);
      int d;
      if (c >= '0' && c <= '9') d = c - '0';
      else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
      else return false;
      v = v * 16 + static_cast<uint32_t>(d);
    }
    i_ += 4;
    *out = v;
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

Result<std::vector<Token>> Lex(std::string_view text) { return Lexer(text).Run(); }

}  // namespace crs::fhirpath
