#include "fhir/fhirpath/parser.h"

#include <algorithm>

#include "fhir/fhirpath/lexer.h"
#include "fhir/fhirpath/ucum.h"

namespace crs::fhirpath {
namespace {

using NodePtr = std::unique_ptr<Node>;

struct BinaryInfo {
  Op op;
  int prec;
};

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : t_(std::move(tokens)) {}

  Result<NodePtr> Run() {
    CRS_ASSIGN_OR_RETURN(NodePtr root, Expr(0));
    if (Cur().kind != Tok::kEnd) return Error(Cur().pos, "unexpected '" + Describe(Cur()) + "'");
    return root;
  }

 private:
  const Token& Cur() const { return t_[i_]; }
  const Token& Ahead(size_t n) const { return t_[std::min(i_ + n, t_.size() - 1)]; }
  void Advance() {
    if (i_ + 1 < t_.size()) ++i_;
  }

  static std::string Describe(const Token& t) {
    switch (t.kind) {
      case Tok::kEnd: return "end of expression";
      case Tok::kString: return "'" + t.text + "'";
      case Tok::kDateTime: return "@" + t.text;
      case Tok::kSpecial: return "$" + t.text;
      case Tok::kVariable: return "%" + t.text;
      case Tok::kDelimited: return "`" + t.text + "`";
      case Tok::kIdentifier:
      case Tok::kNumber: return t.text;
      default: break;
    }
    static constexpr const char* kPunct[] = {".", "[", "]", "(", ")", "{", "}", ",", "+", "-",
                                             "*", "/", "&", "|", "<", ">", "<=", ">=", "=",
                                             "!=", "~", "!~"};
    return kPunct[static_cast<int>(t.kind) - static_cast<int>(Tok::kDot)];
  }

  Status Error(uint32_t pos, std::string what) const {
    return Status::Invalid("FHIRPath syntax error at offset " + std::to_string(pos) + ": " +
                           what);
  }

  Status Expect(Tok kind, const char* what) {
    if (Cur().kind != kind) {
      return Error(Cur().pos, std::string("expected ") + what + ", found '" +
                                  Describe(Cur()) + "'");
    }
    Advance();
    return Status::Ok();
  }

  NodePtr Make(NodeKind kind, uint32_t pos) {
    auto n = std::make_unique<Node>();
    n->kind = kind;
    n->pos = pos;
    return n;
  }

  BinaryInfo PeekBinary() const {
    const Token& t = Cur();
    switch (t.kind) {
      case Tok::kStar: return {Op::kMul, 10};
      case Tok::kSlash: return {Op::kDiv, 10};
      case Tok::kPlus: return {Op::kAdd, 9};
      case Tok::kMinus: return {Op::kSub, 9};
      case Tok::kAmp: return {Op::kConcat, 9};
      case Tok::kPipe: return {Op::kUnion, 7};
      case Tok::kLt: return {Op::kLt, 6};
      case Tok::kGt: return {Op::kGt, 6};
      case Tok::kLe: return {Op::kLe, 6};
      case Tok::kGe: return {Op::kGe, 6};
      case Tok::kEq: return {Op::kEq, 5};
      case Tok::kTilde: return {Op::kEquiv, 5};
      case Tok::kNe: return {Op::kNe, 5};
      case Tok::kNotTilde: return {Op::kNotEquiv, 5};
      case Tok::kIdentifier: break;
      default: return {Op::kNone, -1};
    }
    const std::string& w = t.text;
    if (w == "div") return {Op::kDivInt, 10};
    if (w == "mod") return {Op::kMod, 10};
    if (w == "is") return {Op::kIs, 8};
    if (w == "as") return {Op::kAs, 8};
    if (w == "in") return {Op::kIn, 4};
    if (w == "contains") return {Op::kContains, 4};
    if (w == "and") return {Op::kAnd, 3};
    if (w == "or") return {Op::kOr, 2};
    if (w == "xor") return {Op::kXor, 2};
    if (w == "implies") return {Op::kImplies, 1};
    return {Op::kNone, -1};
  }

  // Bounds the parser's own recursion (parentheses, arguments, unary chains).
  class Recursion {
   public:
    explicit Recursion(int* depth) : depth_(depth) { ++*depth_; }
    ~Recursion() { --*depth_; }
    bool too_deep() const { return *depth_ > kMaxExpressionDepth; }

   private:
    int* depth_;
  };

  Status TooDeep(uint32_t pos) const {
    return Error(pos, "expression nested too deeply (limit " +
                          std::to_string(kMaxExpressionDepth) + ")");
  }

  // Sets the node's height from its children; bounds the evaluator's recursion
  // (and the tree's destructor) for long left-deep chains such as 1+1+...+1.
  Status Finish(Node* n) const {
    int h = n->focus ? n->focus->height : 0;
    for (const auto& a : n->args) h = std::max<int>(h, a->height);
    if (h + 1 > kMaxExpressionDepth) return TooDeep(n->pos);
    n->height = static_cast<uint16_t>(h + 1);
    return Status::Ok();
  }

  Result<NodePtr> Expr(int min_prec) {
    Recursion guard(&depth_);
    if (guard.too_deep()) return TooDeep(Cur().pos);
    CRS_ASSIGN_OR_RETURN(NodePtr lhs, Unary());
    while (true) {
      BinaryInfo b = PeekBinary();
      if (b.op == Op::kNone || b.prec < min_prec) break;
      uint32_t pos = Cur().pos;
      Advance();
      if (b.op == Op::kIs || b.op == Op::kAs) {
        NodePtr n = Make(NodeKind::kTypeOp, pos);
        n->op = b.op;
        CRS_ASSIGN_OR_RETURN(n->type, TypeSpecifier());
        n->args.push_back(std::move(lhs));
        CRS_RETURN_IF_ERROR(Finish(n.get()));
        lhs = std::move(n);
        continue;
      }
      CRS_ASSIGN_OR_RETURN(NodePtr rhs, Expr(b.prec + 1));
      NodePtr n = Make(NodeKind::kBinary, pos);
      n->op = b.op;
      n->args.push_back(std::move(lhs));
      n->args.push_back(std::move(rhs));
      CRS_RETURN_IF_ERROR(Finish(n.get()));
      lhs = std::move(n);
    }
    return lhs;
  }

  Result<TypeSpec> TypeSpecifier() {
    TypeSpec spec;
    if (Cur().kind != Tok::kIdentifier && Cur().kind != Tok::kDelimited) {
      return Error(Cur().pos, "expected a type name, found '" + Describe(Cur()) + "'");
    }
    spec.name = Cur().text;
    Advance();
    if ((spec.name == "FHIR" || spec.name == "System") && Cur().kind == Tok::kDot &&
        (Ahead(1).kind == Tok::kIdentifier || Ahead(1).kind == Tok::kDelimited)) {
      Advance();
      spec.ns = std::move(spec.name);
      spec.name = Cur().text;
      Advance();
    }
    return spec;
  }

  Result<NodePtr> Unary() {
    if (Cur().kind != Tok::kPlus && Cur().kind != Tok::kMinus) return Postfix();
    bool negate = Cur().kind == Tok::kMinus;
    uint32_t pos = Cur().pos;
    Advance();
    Recursion guard(&depth_);
    if (guard.too_deep()) return TooDeep(pos);
    CRS_ASSIGN_OR_RETURN(NodePtr operand, Unary());
    if (operand->kind == NodeKind::kLiteral) {
      Item& lit = operand->literal;
      switch (lit.kind()) {
        case ItemKind::kInteger:
          if (negate) lit = Item::Integer(-lit.integer());
          return operand;
        case ItemKind::kDecimal:
          if (negate) lit = Item::FromDecimal(lit.decimal().Negate());
          return operand;
        case ItemKind::kQuantity:
          if (negate) lit = Item::Quantity(lit.decimal().Negate(), std::string(lit.unit()));
          return operand;
        default: break;
      }
    }
    NodePtr n = Make(NodeKind::kUnary, pos);
    n->op = negate ? Op::kSub : Op::kAdd;
    n->args.push_back(std::move(operand));
    CRS_RETURN_IF_ERROR(Finish(n.get()));
    return n;
  }

  Result<NodePtr> Postfix() {
    CRS_ASSIGN_OR_RETURN(NodePtr node, Term());
    while (true) {
      if (Cur().kind == Tok::kDot) {
        Advance();
        if (Cur().kind != Tok::kIdentifier && Cur().kind != Tok::kDelimited) {
          return Error(Cur().pos, "expected a name after '.', found '" + Describe(Cur()) + "'");
        }
        CRS_ASSIGN_OR_RETURN(node, Invocation(std::move(node)));
      } else if (Cur().kind == Tok::kLBracket) {
        uint32_t pos = Cur().pos;
        Advance();
        NodePtr n = Make(NodeKind::kIndexer, pos);
        n->focus = std::move(node);
        CRS_ASSIGN_OR_RETURN(NodePtr index, Expr(0));
        n->args.push_back(std::move(index));
        CRS_RETURN_IF_ERROR(Expect(Tok::kRBracket, "']'"));
        CRS_RETURN_IF_ERROR(Finish(n.get()));
        node = std::move(n);
      } else {
        break;
      }
    }
    return node;
  }

  // name or name(args) applied to `focus` (null: $this).
  Result<NodePtr> Invocation(NodePtr focus) {
    const Token& t = Cur();
    uint32_t pos = t.pos;
    std::string name = t.text;
    bool delimited = t.kind == Tok::kDelimited;
    Advance();
    if (!delimited && Cur().kind == Tok::kLParen) return Call(std::move(focus), name, pos);
    NodePtr n = Make(NodeKind::kMember, pos);
    n->name = std::move(name);
    n->focus = std::move(focus);
    CRS_RETURN_IF_ERROR(Finish(n.get()));
    return n;
  }

  Result<NodePtr> Call(NodePtr focus, const std::string& name, uint32_t pos) {
    const FunctionInfo* info = FindFunction(name);
    if (info == nullptr) return Error(pos, "unknown function '" + name + "'");
    NodePtr n = Make(NodeKind::kFunction, pos);
    n->name = name;
    n->fn = info->fn;
    n->lambda_mask = info->lambda_mask;
    n->focus = std::move(focus);
    CRS_RETURN_IF_ERROR(Expect(Tok::kLParen, "'('"));
    if (Cur().kind != Tok::kRParen) {
      while (true) {
        bool descending = false;
        if (info->fn == Fn::kSort && Cur().kind == Tok::kMinus) {
          descending = true;
          Advance();
        }
        CRS_ASSIGN_OR_RETURN(NodePtr arg, Expr(0));
        n->args.push_back(std::move(arg));
        n->arg_descending.push_back(descending);
        if (Cur().kind != Tok::kComma) break;
        Advance();
      }
    }
    CRS_RETURN_IF_ERROR(Expect(Tok::kRParen, "')'"));
    int count = static_cast<int>(n->args.size());
    if (count < info->min_args || (info->max_args >= 0 && count > info->max_args)) {
      return Error(pos, "wrong number of arguments to " + name + "(): " + std::to_string(count));
    }
    if (info->type_argument) {
      CRS_ASSIGN_OR_RETURN(n->type, TypeFromArgument(*n->args[0]));
      n->args.clear();
    }
    CRS_RETURN_IF_ERROR(Finish(n.get()));
    return n;
  }

  // is(FHIR.Patient): the argument parses as a path; read it back as a type name.
  Result<TypeSpec> TypeFromArgument(const Node& arg) {
    if (arg.kind != NodeKind::kMember) return Error(arg.pos, "expected a type name");
    TypeSpec spec;
    spec.name = arg.name;
    if (arg.focus) {
      const Node& q = *arg.focus;
      if (q.kind != NodeKind::kMember || q.focus) return Error(arg.pos, "expected a type name");
      spec.ns = q.name;
    }
    return spec;
  }

  Result<NodePtr> Term() {
    const Token& t = Cur();
    uint32_t pos = t.pos;
    switch (t.kind) {
      case Tok::kLParen: {
        Advance();
        CRS_ASSIGN_OR_RETURN(NodePtr inner, Expr(0));
        CRS_RETURN_IF_ERROR(Expect(Tok::kRParen, "')'"));
        return inner;
      }
      case Tok::kLBrace:
        Advance();
        CRS_RETURN_IF_ERROR(Expect(Tok::kRBrace, "'}'"));
        return Make(NodeKind::kEmpty, pos);
      case Tok::kString: {
        NodePtr n = Make(NodeKind::kLiteral, pos);
        n->literal = Item::String(t.text);
        Advance();
        return n;
      }
      case Tok::kNumber: return NumberLiteral();
      case Tok::kDateTime: {
        auto v = DateTimeValue::ParseLiteral(t.text);
        if (!v) return Error(pos, "invalid date/time literal @" + t.text);
        NodePtr n = Make(NodeKind::kLiteral, pos);
        n->literal = Item::FromDateTime(*v);
        Advance();
        return n;
      }
      case Tok::kSpecial: {
        NodeKind k = t.text == "this" ? NodeKind::kThis
                     : t.text == "index" ? NodeKind::kIndex
                                         : NodeKind::kTotal;
        Advance();
        return Make(k, pos);
      }
      case Tok::kVariable: {
        NodePtr n = Make(NodeKind::kVariable, pos);
        n->name = t.text;
        Advance();
        return n;
      }
      case Tok::kIdentifier:
        if (t.text == "true" || t.text == "false") {
          NodePtr n = Make(NodeKind::kLiteral, pos);
          n->literal = Item::Boolean(t.text == "true");
          Advance();
          return n;
        }
        return Invocation(nullptr);
      case Tok::kDelimited: return Invocation(nullptr);
      default: break;
    }
    return Error(pos, "unexpected '" + Describe(t) + "'");
  }

  Result<NodePtr> NumberLiteral() {
    const Token& t = Cur();
    uint32_t pos = t.pos;
    NodePtr n = Make(NodeKind::kLiteral, pos);
    bool is_decimal = t.text.find('.') != std::string::npos;
    std::optional<Decimal> dec = Decimal::Parse(t.text);
    if (!dec) return Error(pos, "number out of range: " + t.text);
    Advance();
    if (Cur().kind == Tok::kString) {
      n->literal = Item::Quantity(*dec, Cur().text);
      Advance();
      return n;
    }
    if (Cur().kind == Tok::kIdentifier && ucum::IsCalendarKeyword(Cur().text)) {
      n->literal =
          Item::Quantity(*dec, std::string(ucum::SingularCalendarKeyword(Cur().text)));
      Advance();
      return n;
    }
    if (is_decimal) {
      n->literal = Item::FromDecimal(*dec);
    } else {
      auto v = dec->ToInt64();
      if (!v) return Error(pos, "integer out of range: " + t.text);
      n->literal = Item::Integer(*v);
    }
    return n;
  }

  std::vector<Token> t_;
  size_t i_ = 0;
  int depth_ = 0;
};

}  // namespace

Result<std::unique_ptr<Node>> Parse(std::string_view text) {
  if (text.size() > kMaxExpressionLength) {
    return Status::Invalid("FHIRPath expression longer than " +
                           std::to_string(kMaxExpressionLength) + " characters");
  }
  CRS_ASSIGN_OR_RETURN(std::vector<Token> tokens, Lex(text));
  return Parser(std::move(tokens)).Run();
}

}  // namespace crs::fhirpath
