// The .chs parser (spec/parser.h): recursive descent over the token vector, one function per
// grammar rule of the comment in parser.h. A parse function that fails reports one diagnostic and
// returns null; the statement / declaration loop then skips to a synchronisation point (`;`, `}`,
// or a declaration keyword), so one mistake gives one message and later mistakes are still found.
// Recursion is bounded: kMaxNesting levels of statements and kMaxNesting of expressions in the
// parser itself, and kMaxExprHeight for the height of the built expression trees (left-associative
// chains are built by a loop but still make tall trees), so every later pass can recurse safely.
#include "spec/parser.h"

#include <algorithm>
#include <optional>
#include <set>

namespace chassis::spec {

namespace {

class Parser {
public:
  Parser(std::vector<Token> toks, const std::string& file, DiagnosticEngine& diags)
      : toks_(std::move(toks)), file_(file), diags_(diags) {}

  std::unique_ptr<FileAST> parseFile() {
    auto f = std::make_unique<FileAST>();
    f->path = file_;
    while (!at(Tok::End) && !fatal_) {
      DeclPtr d = parseDecl();
      if (d)
        f->decls.push_back(std::move(d));
      else
        syncDecl();
    }
    return f;
  }

private:
  // ---- token helpers -----------------------------------------------------------------------
  const Token& cur() const { return toks_[pos_]; }
  const Token& peekTok(size_t k) const { return toks_[std::min(pos_ + k, toks_.size() - 1)]; }
  bool at(Tok k) const { return cur().kind == k; }
  const Token& advance() {
    const Token& t = toks_[pos_];
    if (pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }
  bool accept(Tok k) {
    if (!at(k)) return false;
    advance();
    return true;
  }
  SourceLoc loc(const Token& t) const { return SourceLoc{file_, t.line, t.col}; }
  SourceLoc here() const { return loc(cur()); }

  std::string describe(const Token& t) const {
    switch (t.kind) {
    case Tok::End:
      return "end of file";
    case Tok::Ident:
    case Tok::IntLit:
    case Tok::RealLit:
    case Tok::String:
      return "'" + std::string(t.text) + "'";
    default:
      return tokName(t.kind);
    }
  }

  void error(SourceLoc l, std::string msg) {
    if (fatal_) return;
    diags_.error(std::move(l), std::move(msg));
  }

  // "expected X, found Y". When the offending token is on a later line than the previous token
  // (typically a missing ';'), the place to look is just after the previous token.
  void errorExpected(const std::string& what) {
    if (cur().afterLexError) return; // the lexical error before it is the one to fix
    SourceLoc l = here();
    if (pos_ > 0) {
      const Token& prev = toks_[pos_ - 1];
      if (prev.line < cur().line)
        l = SourceLoc{file_, prev.line, prev.col + static_cast<int>(prev.text.size())};
    }
    error(l, "expected " + what + ", found " + describe(cur()));
  }

  bool expect(Tok k, const char* context = nullptr) {
    if (accept(k)) return true;
    errorExpected(std::string(tokName(k)) + (context ? std::string(" ") + context : ""));
    return false;
  }

  bool expectIdent(std::string& name, SourceLoc& l, const char* what) {
    if (!at(Tok::Ident)) {
      errorExpected(what);
      return false;
    }
    l = here();
    name = std::string(advance().text);
    return true;
  }

  bool startsDecl(Tok k) const {
    return k == Tok::KwImport || k == Tok::KwEnum || k == Tok::KwModule || k == Tok::KwNetwork ||
           k == Tok::KwProperty || k == Tok::KwTask;
  }

  // Skip to the next top-level declaration keyword.
  void syncDecl() {
    while (!at(Tok::End) && !startsDecl(cur().kind))
      advance();
  }

  // Skip the rest of a bad statement: up to and including `;`, or up to a `}` closing the
  // enclosing block; balanced `{ }` inside are skipped whole.
  void syncStmt() {
    int braces = 0;
    while (!at(Tok::End)) {
      if (braces == 0 && startsDecl(cur().kind)) return;
      if (at(Tok::LBrace)) ++braces;
      if (at(Tok::RBrace)) {
        if (braces == 0) return;
        --braces;
        advance();
        if (braces == 0 && !at(Tok::KwElse)) return;
        continue;
      }
      if (at(Tok::Semi) && braces == 0) {
        advance();
        return;
      }
      advance();
    }
  }

  // ---- nesting bound -------------------------------------------------------------------------
  // One level of the parser's recursion (a block, an if / for, a parenthesis, an operand...);
  // `stmt` says which word the error uses, so that deep statements are not called expressions.
  // Statements and expressions have separate budgets (each kMaxNesting), so an expression in a
  // deeply nested statement is not blamed for the statements' depth.
  struct Nest {
    Parser& p;
    int& depth;
    bool ok;
    explicit Nest(Parser& pr, bool stmt = false)
        : p(pr), depth(stmt ? pr.stmtDepth_ : pr.depth_), ok(++depth <= kMaxNesting) {
      if (!ok) p.tooDeep(stmt);
    }
    ~Nest() { --depth; }
  };
  void tooDeep(bool stmt) {
    if (fatal_) return;
    error(here(), std::string(stmt ? "statements" : "expression") + " nested too deeply (limit " +
                      std::to_string(kMaxNesting) + ")");
    fatal_ = true;
  }
  ExprPtr mk(ExprKind k, SourceLoc l) { return std::make_unique<Expr>(k, std::move(l)); }
  // Sets the node's height from its children; false (reported, fatal) if over the limit.
  bool seal(Expr& e) {
    int d = 0;
    for (auto& a : e.args)
      if (a) d = std::max(d, a->depth);
    e.depth = d + 1;
    if (e.depth > kMaxExprHeight) {
      if (!fatal_)
        error(e.loc, "expression too deep: more than " + std::to_string(kMaxExprHeight) +
                         " levels of operators (a chain 'a + b + ...' counts one level per "
                         "operator); split it using intermediate variables");
      fatal_ = true;
      return false;
    }
    return true;
  }

  // ---- declarations --------------------------------------------------------------------------
  DeclPtr parseDecl() {
    std::string doc = cur().doc;
    DeclPtr d;
    switch (cur().kind) {
    case Tok::KwImport:
      d = parseImport();
      break;
    case Tok::KwEnum:
      d = parseEnum();
      break;
    case Tok::KwModule:
      d = parseModule();
      break;
    case Tok::KwNetwork:
      d = parseNetwork();
      break;
    case Tok::KwProperty:
      d = parseProperty();
      break;
    case Tok::KwTask:
      d = parseTask();
      break;
    default:
      if (!cur().afterLexError)
        error(here(), "expected a declaration ('import', 'enum', 'module', 'network', "
                      "'property' or 'task'), found " +
                          describe(cur()));
      advance();
      return nullptr;
    }
    if (d) d->doc = std::move(doc);
    return d;
  }

  DeclPtr parseImport() {
    advance();
    auto d = std::make_unique<ImportDecl>();
    if (!at(Tok::String)) {
      errorExpected("a file name string after 'import'");
      return nullptr;
    }
    d->loc = here();
    d->name = advance().str;
    if (!expect(Tok::Semi)) return nullptr;
    return d;
  }

  DeclPtr parseEnum() {
    advance();
    auto d = std::make_unique<EnumDecl>();
    if (!expectIdent(d->name, d->loc, "an enum name")) return nullptr;
    if (!expect(Tok::LBrace)) return nullptr;
    do {
      if (at(Tok::RBrace) && !d->constants.empty()) break; // trailing comma
      EnumConstant c;
      if (!expectIdent(c.name, c.loc, "an enum constant")) return nullptr;
      c.value = static_cast<int64_t>(d->constants.size());
      d->constants.push_back(std::move(c));
    } while (accept(Tok::Comma));
    if (!expect(Tok::RBrace)) return nullptr;
    return d;
  }

  bool parseType(TypeExpr& t) {
    t.loc = here();
    switch (cur().kind) {
    case Tok::KwBool:
    case Tok::KwInt:
    case Tok::KwReal:
    case Tok::Ident:
      t.name = std::string(advance().text);
      break;
    default:
      errorExpected("a type");
      return false;
    }
    if (accept(Tok::LBracket)) {
      if (!parseLength(t.arrayLength, t.lengthName, t.lengthLoc)) return false;
      if (accept(Tok::Comma) && !parseLength(t.colsLength, t.colsName, t.colsLoc)) return false;
      if (at(Tok::Comma)) {
        error(here(), "arrays have one or two dimensions ('T[N]' or 'T[N, K]'), not more");
        return false;
      }
      if (!expect(Tok::RBracket)) return false;
      if (at(Tok::LBracket)) {
        error(here(), "arrays of arrays are not supported (write a two-dimensional array as "
                      "'T[N, K]')");
        return false;
      }
    }
    return true;
  }

  // One length of an array type: an integer literal, or an int input's name (the checker
  // resolves it from the data).
  bool parseLength(int64_t& length, std::string& name, SourceLoc& loc) {
    if (at(Tok::Ident)) {
      loc = here();
      name = std::string(advance().text);
      return true;
    }
    if (!at(Tok::IntLit)) {
      errorExpected("an integer literal or an int input's name (the array length)");
      return false;
    }
    if (cur().intValue <= 0) {
      error(here(), "array length must be a positive integer, got " + std::string(cur().text));
      return false;
    }
    if (cur().intValue > kMaxArrayLength) {
      error(here(), "array length " + std::string(cur().text) + " is too large; the limit is " +
                        std::to_string(kMaxArrayLength));
      return false;
    }
    loc = here();
    length = advance().intValue;
    return true;
  }

  bool parseParams(CallableDecl& c, VarKind kind) {
    if (at(Tok::RParen)) return true;
    do {
      std::string name;
      SourceLoc l;
      if (!expectIdent(name, l, kind == VarKind::Input ? "an input name" : "an output name"))
        return false;
      VarDecl* v = c.newVar(name, l, kind);
      if (!expect(Tok::Colon)) return false;
      TypeExpr t;
      if (!parseType(t)) return false;
      v->typeExpr = t;
      if (at(Tok::KwIn)) {
        advance();
        if (!expect(Tok::LBracket, "to start the range")) return false;
        v->rangeLo = parseExpr();
        if (!v->rangeLo || !expect(Tok::Comma)) return false;
        v->rangeHi = parseExpr();
        if (!v->rangeHi || !expect(Tok::RBracket)) return false;
      }
      (kind == VarKind::Input ? c.inputs : c.outputs).push_back(v);
      v->index = static_cast<int>((kind == VarKind::Input ? c.inputs : c.outputs).size()) - 1;
    } while (accept(Tok::Comma));
    return true;
  }

  bool parseSignature(CallableDecl& c) {
    if (!expect(Tok::LParen)) return false;
    if (!parseParams(c, VarKind::Input)) return false;
    if (!expect(Tok::RParen)) return false;
    if (accept(Tok::Arrow)) {
      if (!expect(Tok::LParen)) return false;
      if (!parseParams(c, VarKind::Output)) return false;
      if (!expect(Tok::RParen)) return false;
    }
    return true;
  }

  DeclPtr parseModule() {
    advance();
    auto d = std::make_unique<ModuleDecl>();
    if (!expectIdent(d->name, d->loc, "a module name")) return nullptr;
    if (!parseSignature(*d)) return nullptr;
    if (!at(Tok::LBrace)) {
      errorExpected("'{' to start the module body");
      return nullptr;
    }
    if (!parseBlock(d->body)) return nullptr;
    return d;
  }

  DeclPtr parseNetwork() {
    advance();
    auto d = std::make_unique<NetworkDecl>();
    if (!expectIdent(d->name, d->loc, "a network name")) return nullptr;
    if (!parseSignature(*d)) return nullptr;
    if (!expect(Tok::Assign, "and the network file, e.g. = onnx(\"net.onnx\")")) return nullptr;
    if (at(Tok::Ident) && cur().text == "onnx")
      d->format = NetworkFormat::Onnx;
    else if (at(Tok::Ident) && cur().text == "nnet")
      d->format = NetworkFormat::NNet;
    else {
      errorExpected("'onnx' or 'nnet'");
      return nullptr;
    }
    advance();
    if (!expect(Tok::LParen)) return nullptr;
    if (!at(Tok::String)) {
      errorExpected("a file name string");
      return nullptr;
    }
    d->pathLoc = here();
    d->path = advance().str;
    if (!expect(Tok::RParen) || !expect(Tok::Semi)) return nullptr;
    return d;
  }

  DeclPtr parseProperty() {
    advance();
    auto d = std::make_unique<PropertyDecl>();
    if (!expectIdent(d->name, d->loc, "a property name")) return nullptr;
    if (!expect(Tok::Colon)) return nullptr;
    prop_ = d.get();
    d->body = parseExpr();
    prop_ = nullptr;
    if (!d->body || !expect(Tok::Semi)) return nullptr;
    return d;
  }

  // ---- tasks -------------------------------------------------------------------------------
  // `task T { clause* }`: clauses in any order, each at most once; inputs, label and network are
  // required. Clause names other than `network` are contextual (identifiers elsewhere).
  DeclPtr parseTask() {
    advance();
    auto d = std::make_unique<TaskDecl>();
    std::set<std::string> seen;
    SourceLoc closeLoc;
    if (!parseTaskBody(*d, seen, closeLoc)) {
      syncTask();
      return nullptr;
    }
    for (const char* required : {"inputs", "label", "network"})
      if (!seen.count(required)) {
        error(closeLoc, "task '" + d->name + "' has no '" + required + "' clause");
        return nullptr;
      }
    return d;
  }

  // After an error inside a task: skip past its closing `}` (a task's body holds no braces), or
  // up to the next declaration; the `network:` clause is not a declaration.
  void syncTask() {
    while (!at(Tok::End)) {
      if (accept(Tok::RBrace)) return;
      if (startsDecl(cur().kind) && !(at(Tok::KwNetwork) && peekTok(1).kind == Tok::Colon)) return;
      advance();
    }
  }

  // `T { clause* }` up to and including the `}` (whose location goes to `closeLoc`).
  bool parseTaskBody(TaskDecl& d, std::set<std::string>& seen, SourceLoc& closeLoc) {
    if (!expectIdent(d.name, d.loc, "a task name")) return false;
    if (!expect(Tok::LBrace, "to start the task's clauses")) return false;
    while (!at(Tok::RBrace)) {
      if (at(Tok::End) || startsDecl(cur().kind)) {
        if (!at(Tok::KwNetwork)) {
          errorExpected("'}' to close task '" + d.name + "'");
          return false;
        }
      }
      const bool isClause = at(Tok::KwNetwork) ||
                            (at(Tok::Ident) && (cur().text == "inputs" || cur().text == "label" ||
                                                cur().text == "box" || cur().text == "properties"));
      if (!isClause) {
        if (!cur().afterLexError)
          error(here(), "expected a task clause ('inputs', 'label', 'network', 'box' or "
                        "'properties'), found " +
                            describe(cur()));
        return false;
      }
      const std::string clause(cur().text);
      const SourceLoc clauseLoc = here();
      if (!seen.insert(clause).second) {
        error(clauseLoc, "duplicate '" + clause + "' clause in task '" + d.name + "'");
        return false;
      }
      advance();
      if (!expect(Tok::Colon, ("after '" + clause + "'").c_str())) return false;
      bool ok = true;
      if (clause == "inputs")
        ok = expectIdent(d.inputsName, d.inputsLoc, "a module name");
      else if (clause == "label")
        ok = expectIdent(d.labelModule, d.labelLoc, "a module name") &&
             expect(Tok::Dot, "in 'Module.output'") &&
             expectIdent(d.labelOutput, d.labelOutputLoc, "an output name after '.'");
      else if (clause == "network")
        ok = parseTaskNetwork(d);
      else if (clause == "box")
        ok = parseTaskBox(d);
      else
        do {
          std::string name;
          SourceLoc l;
          ok = expectIdent(name, l, "a property name");
          d.propertyNames.push_back(std::move(name));
          d.propertyLocs.push_back(std::move(l));
        } while (ok && accept(Tok::Comma));
      if (!ok || !expect(Tok::Semi)) return false;
    }
    closeLoc = here();
    advance();
    return true;
  }

  // A number in a task clause: [ '-' ] ( INT | REAL ). `integral`: written as an integer.
  bool parseTaskNumber(double& v, bool& integral) {
    const bool neg = accept(Tok::Minus);
    if (at(Tok::IntLit)) {
      v = static_cast<double>(cur().intValue);
      integral = true;
    } else if (at(Tok::RealLit)) {
      v = cur().realValue;
      integral = false;
    } else {
      errorExpected("a number");
      return false;
    }
    advance();
    if (neg) v = -v;
    return true;
  }

  // onnx("file") | nnet("file") | train(options) | compile(options)
  bool parseTaskNetwork(TaskDecl& d) {
    using NS = TaskDecl::NetSource;
    const std::string_view form = at(Tok::Ident) ? cur().text : std::string_view();
    if (form == "onnx")
      d.netSource = NS::Onnx;
    else if (form == "nnet")
      d.netSource = NS::Nnet;
    else if (form == "train")
      d.netSource = NS::Train;
    else if (form == "compile")
      d.netSource = NS::Compile;
    else {
      errorExpected("'onnx', 'nnet', 'train' or 'compile'");
      return false;
    }
    d.netLoc = here();
    advance();
    if (!expect(Tok::LParen)) return false;
    if (d.netSource == NS::Onnx || d.netSource == NS::Nnet) {
      if (!at(Tok::String)) {
        errorExpected("a file name string");
        return false;
      }
      d.netPath = advance().str;
      return expect(Tok::RParen);
    }
    if (accept(Tok::RParen)) return true;
    do {
      TaskOption o;
      if (!expectIdent(o.name, o.loc, "an option name")) return false;
      if (!expect(Tok::Assign, ("after option '" + o.name + "'").c_str())) return false;
      if (accept(Tok::LBracket)) {
        o.isList = true;
        do {
          double v = 0;
          bool integral = true;
          if (!parseTaskNumber(v, integral)) return false;
          o.values.push_back(v);
          o.integral = o.integral && integral;
        } while (accept(Tok::Comma));
        if (!expect(Tok::RBracket)) return false;
      } else {
        double v = 0;
        if (!parseTaskNumber(v, o.integral)) return false;
        o.values.push_back(v);
      }
      d.netOptions.push_back(std::move(o));
    } while (accept(Tok::Comma));
    return expect(Tok::RParen, "after the options");
  }

  // name in [lo, hi] { ',' name in [lo, hi] }
  bool parseTaskBox(TaskDecl& d) {
    do {
      TaskBox b;
      bool integral = true;
      if (!expectIdent(b.name, b.loc, "an input name")) return false;
      if (!expect(Tok::KwIn) || !expect(Tok::LBracket, "to start the range")) return false;
      if (!parseTaskNumber(b.lo, integral) || !expect(Tok::Comma)) return false;
      if (!parseTaskNumber(b.hi, integral) || !expect(Tok::RBracket)) return false;
      d.box.push_back(std::move(b));
    } while (accept(Tok::Comma));
    return true;
  }

  // ---- statements ----------------------------------------------------------------------------
  // `{ stmt* }`; false only on a fatal error or a missing `}` at end of file.
  // `nest` is false for the body of an if / for, whose statement already counted the level.
  bool parseBlock(std::vector<StmtPtr>& out, bool nest = true) {
    std::optional<Nest> n;
    if (nest && !n.emplace(*this, true).ok) return false;
    SourceLoc open = here();
    if (!expect(Tok::LBrace)) return false;
    while (!at(Tok::RBrace) && !at(Tok::End) && !fatal_) {
      if (startsDecl(cur().kind)) break;
      StmtPtr s = parseStmt();
      if (s)
        out.push_back(std::move(s));
      else
        syncStmt();
    }
    if (fatal_) return false;
    if (!accept(Tok::RBrace)) {
      if (!cur().afterLexError)
        error(open, "unclosed '{' (expected '}' before " + describe(cur()) + ")");
      return false;
    }
    return true;
  }

  bool endStmt() { return expect(Tok::Semi); }

  // `let (a, b, ...) = value;` after 'let', at the '(': binds each output of a call.
  StmtPtr parseLetTuple(const SourceLoc& l) {
    auto s = std::make_unique<Stmt>(StmtKind::LetTuple, l);
    advance(); // '('
    do {
      std::string name;
      SourceLoc nameLoc;
      if (!expectIdent(name, nameLoc, "a name in 'let (...)'")) return nullptr;
      s->names.push_back(std::move(name));
      s->nameLocs.push_back(std::move(nameLoc));
    } while (accept(Tok::Comma));
    if (!expect(Tok::RParen)) return nullptr;
    if (s->names.size() < 2) {
      error(s->nameLocs[0], "'let (...)' binds two or more names; write 'let " + s->names[0] +
                                " = ...;' for one");
      return nullptr;
    }
    s->name = s->names[0];
    s->nameLoc = s->nameLocs[0];
    if (!expect(Tok::Assign)) return nullptr;
    if (!(s->value = parseExpr()) || !endStmt()) return nullptr;
    return s;
  }

  StmtPtr parseStmt() {
    SourceLoc l = here();
    switch (cur().kind) {
    case Tok::KwLet: {
      advance();
      if (at(Tok::LParen)) return parseLetTuple(l);
      auto s = std::make_unique<Stmt>(StmtKind::Let, l);
      if (!expectIdent(s->name, s->nameLoc, "a name after 'let'")) return nullptr;
      if (accept(Tok::Colon)) {
        TypeExpr t;
        if (!parseType(t)) return nullptr;
        s->typeExpr = t;
      }
      if (!expect(Tok::Assign)) return nullptr;
      if (!(s->value = parseExpr()) || !endStmt()) return nullptr;
      return s;
    }
    case Tok::KwVar: {
      advance();
      auto s = std::make_unique<Stmt>(StmtKind::Var, l);
      if (!expectIdent(s->name, s->nameLoc, "a name after 'var'")) return nullptr;
      if (!expect(Tok::Colon, "and the variable's type")) return nullptr;
      TypeExpr t;
      if (!parseType(t)) return nullptr;
      s->typeExpr = t;
      if (accept(Tok::Assign) && !(s->value = parseExpr())) return nullptr;
      if (!endStmt()) return nullptr;
      return s;
    }
    case Tok::KwObserve: {
      advance();
      auto s = std::make_unique<Stmt>(StmtKind::Observe, l);
      if (!expect(Tok::LParen)) return nullptr;
      if (!(s->value = parseExpr()) || !expect(Tok::Comma)) return nullptr;
      if (!(s->value2 = parseExpr()) || !expect(Tok::RParen) || !endStmt()) return nullptr;
      return s;
    }
    case Tok::KwCondition:
    case Tok::KwFactor: {
      auto s =
          std::make_unique<Stmt>(at(Tok::KwCondition) ? StmtKind::Condition : StmtKind::Factor, l);
      advance();
      if (!expect(Tok::LParen)) return nullptr;
      if (!(s->value = parseExpr()) || !expect(Tok::RParen) || !endStmt()) return nullptr;
      return s;
    }
    case Tok::KwAssert: {
      advance();
      auto s = std::make_unique<Stmt>(StmtKind::Assert, l);
      if (!(s->value = parseExpr())) return nullptr;
      if (accept(Tok::Colon)) {
        if (!at(Tok::String)) {
          errorExpected("a message string after ':'");
          return nullptr;
        }
        s->message = advance().str;
      }
      if (!endStmt()) return nullptr;
      return s;
    }
    case Tok::KwIf:
      return parseIf();
    case Tok::KwFor: {
      Nest n(*this, true);
      if (!n.ok) return nullptr;
      advance();
      auto s = std::make_unique<Stmt>(StmtKind::For, l);
      if (!expectIdent(s->name, s->nameLoc, "a loop variable after 'for'")) return nullptr;
      if (!expect(Tok::KwIn)) return nullptr;
      if (!(s->lo = parseAdditive()) || !expect(Tok::DotDot)) return nullptr;
      if (!(s->hi = parseAdditive())) return nullptr;
      if (!at(Tok::LBrace)) {
        errorExpected("'{' to start the loop body");
        return nullptr;
      }
      if (!parseBlock(s->body, false)) return nullptr;
      return s;
    }
    case Tok::Ident: {
      std::string name(cur().text);
      SourceLoc nameLoc = here();
      advance();
      ExprPtr index, index2;
      if (accept(Tok::LBracket)) {
        if (!(index = parseExpr())) return nullptr;
        if (accept(Tok::Comma) && !(index2 = parseExpr())) return nullptr;
        if (!expect(Tok::RBracket)) return nullptr;
      }
      StmtKind k;
      if (at(Tok::Assign))
        k = StmtKind::Assign;
      else if (at(Tok::Tilde))
        k = StmtKind::Sample;
      else if (!index && name == "target" && at(Tok::Plus) && peekTok(1).kind == Tok::Assign) {
        error(here(), "Stan's 'target += e;' is written 'factor(e);' here (e a log-weight, e.g. "
                      "factor(lpdf(Normal(mu, sigma), y));)");
        return nullptr;
      } else if ((at(Tok::Plus) || at(Tok::Minus) || at(Tok::Star) || at(Tok::Slash)) &&
                 peekTok(1).kind == Tok::Assign) {
        std::string op(cur().text);
        std::string t = name + (index ? "[...]" : "");
        error(here(), "there is no '" + op + "=': write '" + t + " = " + t + " " + op + " ...;'");
        return nullptr;
      } else {
        errorExpected("'=' or '~' after '" + name + "'");
        return nullptr;
      }
      auto s = std::make_unique<Stmt>(k, l);
      s->name = std::move(name);
      s->nameLoc = nameLoc;
      s->index = std::move(index);
      s->index2 = std::move(index2);
      advance();
      if (!(s->value = parseExpr()) || !endStmt()) return nullptr;
      return s;
    }
    default:
      if (!cur().afterLexError) error(here(), "expected a statement, found " + describe(cur()));
      advance();
      return nullptr;
    }
  }

  StmtPtr parseIf() {
    Nest n(*this, true);
    if (!n.ok) return nullptr;
    auto s = std::make_unique<Stmt>(StmtKind::If, here());
    advance();
    if (!(s->value = parseExpr())) return nullptr;
    if (!at(Tok::LBrace)) {
      errorExpected("'{' after the condition");
      return nullptr;
    }
    if (!parseBlock(s->body, false)) return nullptr;
    if (accept(Tok::KwElse)) {
      if (at(Tok::KwIf)) {
        StmtPtr e = parseIf();
        if (!e) return nullptr;
        s->elseBody.push_back(std::move(e));
      } else {
        if (!at(Tok::LBrace)) {
          errorExpected("'{' or 'if' after 'else'");
          return nullptr;
        }
        if (!parseBlock(s->elseBody, false)) return nullptr;
      }
    }
    return s;
  }

  // ---- expressions ---------------------------------------------------------------------------
  ExprPtr parseExpr() {
    Nest n(*this);
    if (!n.ok) return nullptr;
    if (at(Tok::KwForall) || at(Tok::KwExists)) return parseQuant();
    return parseImplication();
  }

  ExprPtr parseQuant() {
    SourceLoc l = here();
    bool exists = at(Tok::KwExists);
    const char* kw = exists ? "'exists'" : "'forall'";
    if (!prop_) {
      error(l, std::string(kw) + " is only allowed in properties");
      return nullptr;
    }
    advance();
    auto e = mk(ExprKind::Quant, l);
    e->isExists = exists;
    do {
      auto v = std::make_unique<VarDecl>();
      v->kind = VarKind::Quantified;
      if (!expectIdent(v->name, v->loc, "a variable name")) return nullptr;
      if (!expect(Tok::KwIn)) return nullptr;
      TypeExpr t;
      t.loc = here();
      if (accept(Tok::LBracket)) {
        t.name = "real";
        if (!(v->rangeLo = parseExpr()) || !expect(Tok::Comma)) return nullptr;
        if (!(v->rangeHi = parseExpr()) || !expect(Tok::RBracket)) return nullptr;
      } else if (at(Tok::KwBool) || at(Tok::Ident)) {
        t.name = std::string(advance().text);
      } else {
        errorExpected("'[lo, hi]', 'bool' or an enum name");
        return nullptr;
      }
      v->typeExpr = t;
      v->index = static_cast<int>(prop_->vars.size());
      e->quantVars.push_back(v.get());
      prop_->vars.push_back(std::move(v));
    } while (accept(Tok::Comma));
    if (!expect(Tok::Colon, "before the quantifier's body")) return nullptr;
    ExprPtr body = parseExpr();
    if (!body) return nullptr;
    e->args.push_back(std::move(body));
    if (!seal(*e)) return nullptr;
    return e;
  }

  ExprPtr binary(BinaryOp op, SourceLoc l, ExprPtr a, ExprPtr b) {
    auto e = mk(ExprKind::Binary, std::move(l));
    e->binaryOp = op;
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    if (!seal(*e)) return nullptr;
    return e;
  }

  ExprPtr parseImplication() {
    ExprPtr a = parseTernary();
    if (!a) return nullptr;
    if (at(Tok::Implies)) {
      SourceLoc l = here();
      advance();
      ExprPtr b = parseExpr(); // right associative
      if (!b) return nullptr;
      return binary(BinaryOp::Implies, l, std::move(a), std::move(b));
    }
    return a;
  }

  ExprPtr parseTernary() {
    ExprPtr c = parseOr();
    if (!c) return nullptr;
    if (!at(Tok::Question)) return c;
    Nest n(*this);
    if (!n.ok) return nullptr;
    SourceLoc l = here();
    advance();
    ExprPtr a = parseExpr();
    if (!a || !expect(Tok::Colon, "in 'c ? a : b'")) return nullptr;
    ExprPtr b = parseTernary();
    if (!b) return nullptr;
    auto e = mk(ExprKind::Cond, l);
    e->args.push_back(std::move(c));
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    if (!seal(*e)) return nullptr;
    return e;
  }

  // Left-associative binary levels, table driven.
  struct OpEntry {
    Tok tok;
    BinaryOp op;
  };
  template <size_t N, typename Next>
  ExprPtr leftAssoc(const std::array<OpEntry, N>& ops, Next next) {
    ExprPtr a = (this->*next)();
    if (!a) return nullptr;
    while (true) {
      const OpEntry* found = nullptr;
      for (const OpEntry& o : ops)
        if (at(o.tok)) found = &o;
      if (!found) return a;
      SourceLoc l = here();
      advance();
      ExprPtr b = (this->*next)();
      if (!b) return nullptr;
      a = binary(found->op, l, std::move(a), std::move(b));
      if (!a) return nullptr;
    }
  }

  ExprPtr parseOr() {
    static constexpr std::array<OpEntry, 1> ops{{{Tok::OrOr, BinaryOp::Or}}};
    return leftAssoc(ops, &Parser::parseAnd);
  }
  ExprPtr parseAnd() {
    static constexpr std::array<OpEntry, 1> ops{{{Tok::AndAnd, BinaryOp::And}}};
    return leftAssoc(ops, &Parser::parseEquality);
  }
  ExprPtr parseEquality() {
    static constexpr std::array<OpEntry, 2> ops{
        {{Tok::EqEq, BinaryOp::Eq}, {Tok::NotEq, BinaryOp::Ne}}};
    return leftAssoc(ops, &Parser::parseComparison);
  }
  ExprPtr parseComparison() {
    static constexpr std::array<OpEntry, 4> ops{{{Tok::Lt, BinaryOp::Lt},
                                                 {Tok::Le, BinaryOp::Le},
                                                 {Tok::Gt, BinaryOp::Gt},
                                                 {Tok::Ge, BinaryOp::Ge}}};
    return leftAssoc(ops, &Parser::parseAdditive);
  }
  ExprPtr parseAdditive() {
    static constexpr std::array<OpEntry, 2> ops{
        {{Tok::Plus, BinaryOp::Add}, {Tok::Minus, BinaryOp::Sub}}};
    return leftAssoc(ops, &Parser::parseTerm);
  }
  ExprPtr parseTerm() {
    static constexpr std::array<OpEntry, 3> ops{
        {{Tok::Star, BinaryOp::Mul}, {Tok::Slash, BinaryOp::Div}, {Tok::Percent, BinaryOp::Mod}}};
    return leftAssoc(ops, &Parser::parseUnary);
  }

  ExprPtr parseUnary() {
    if (at(Tok::Minus) || at(Tok::Bang)) {
      Nest n(*this);
      if (!n.ok) return nullptr;
      auto e = mk(ExprKind::Unary, here());
      e->unaryOp = at(Tok::Minus) ? UnaryOp::Neg : UnaryOp::Not;
      advance();
      ExprPtr a = parseUnary();
      if (!a) return nullptr;
      e->args.push_back(std::move(a));
      if (!seal(*e)) return nullptr;
      return e;
    }
    return parsePostfix();
  }

  ExprPtr parsePostfix() {
    ExprPtr e = parsePrimary();
    if (!e) return nullptr;
    while (true) {
      if (at(Tok::LBracket)) {
        auto ix = mk(ExprKind::Index, here());
        advance();
        ExprPtr i = parseExpr();
        if (!i) return nullptr;
        ExprPtr j; // x[i, j]: an element of a two-dimensional array
        if (accept(Tok::Comma) && !(j = parseExpr())) return nullptr;
        if (!expect(Tok::RBracket)) return nullptr;
        ix->args.push_back(std::move(e));
        ix->args.push_back(std::move(i));
        if (j) ix->args.push_back(std::move(j));
        if (!seal(*ix)) return nullptr;
        e = std::move(ix);
      } else if (at(Tok::Dot)) {
        advance();
        auto m = mk(ExprKind::Member, SourceLoc{});
        if (!expectIdent(m->name, m->nameLoc, "a name after '.'")) return nullptr;
        m->loc = m->nameLoc;
        m->args.push_back(std::move(e));
        if (!seal(*m)) return nullptr;
        e = std::move(m);
      } else {
        return e;
      }
    }
  }

  bool parseArgs(Expr& e, Tok close) {
    if (accept(close)) return true;
    do {
      ExprPtr a = parseExpr();
      if (!a) return false;
      e.args.push_back(std::move(a));
    } while (accept(Tok::Comma));
    if (close == Tok::RParen && at(Tok::Pipe) && e.kind == ExprKind::Call) {
      // Stan's conditional notation, `normal_lpdf(y | mu, sigma)`.
      error(here(), "'|' separates an event from its condition only in P[M](e | g); Stan's '" +
                        e.name + "(x | ...)' is written lpdf(D(...), x), e.g. "
                        "lpdf(Normal(mu, sigma), x)");
      return false;
    }
    if (close == Tok::RParen) return expect(close, "after the arguments");
    return expect(close);
  }

  // The arguments of the flat prior, named: `Flat()`, `Flat(lower = a)`, `Flat(upper = b)`,
  // `Flat(lower = a, upper = b)` (either order), after the '('. The call is renamed to the
  // distribution it is, Flat, FlatLower(a), FlatUpper(b) or FlatInterval(a, b), whose
  // positional parameters the rest of the front end checks like any distribution's.
  // A constrained array instead: `Flat(simplex)`, `Flat(ordered)` (FlatShape, for a whole real
  // array), or `Flat(positive)`, which is Flat(lower = 0.0).
  bool parseFlatArgs(Expr& e) {
    static const char* kForms =
        "Flat takes named bounds or an array constraint: Flat(), Flat(lower = a), "
        "Flat(upper = b), Flat(lower = a, upper = b), Flat(positive), Flat(simplex) or "
        "Flat(ordered)";
    if (at(Tok::Ident) && peekTok(1).kind == Tok::RParen) {
      const std::string_view w = cur().text;
      if (w == "simplex" || w == "ordered") {
        e.flatShape = w == "simplex" ? FlatShape::Simplex : FlatShape::Ordered;
        advance();
        advance(); // ')'
        return true;
      }
      if (w == "positive") {
        auto zero = mk(ExprKind::RealLit, here());
        zero->realValue = 0.0;
        advance();
        advance(); // ')'
        e.name = "FlatLower";
        e.args.push_back(std::move(zero));
        return true;
      }
    }
    ExprPtr lower, upper;
    if (!accept(Tok::RParen)) {
      do {
        if (!(at(Tok::Ident) && (cur().text == "lower" || cur().text == "upper") &&
              peekTok(1).kind == Tok::Assign)) {
          error(here(), kForms);
          return false;
        }
        const bool isLower = cur().text == "lower";
        SourceLoc nameLoc = here();
        advance();
        advance(); // '='
        ExprPtr a = parseExpr();
        if (!a) return false;
        ExprPtr& slot = isLower ? lower : upper;
        if (slot) {
          error(nameLoc, std::string("Flat's '") + (isLower ? "lower" : "upper") +
                             "' bound is given twice");
          return false;
        }
        slot = std::move(a);
      } while (accept(Tok::Comma));
      if (!expect(Tok::RParen, "after the arguments")) return false;
    }
    if (lower && upper) {
      e.name = "FlatInterval";
      e.args.push_back(std::move(lower));
      e.args.push_back(std::move(upper));
    } else if (lower) {
      e.name = "FlatLower";
      e.args.push_back(std::move(lower));
    } else if (upper) {
      e.name = "FlatUpper";
      e.args.push_back(std::move(upper));
    }
    return true;
  }

  // `X[M](` with X = P or E: a probability / expectation (else an ordinary name).
  bool atModelQuery(std::string_view which) const {
    return at(Tok::Ident) && cur().text == which && peekTok(1).kind == Tok::LBracket &&
           peekTok(2).kind == Tok::Ident && peekTok(3).kind == Tok::RBracket &&
           peekTok(4).kind == Tok::LParen;
  }

  ExprPtr parseModelQuery(ExprKind k, const char* what) {
    SourceLoc l = here();
    if (!prop_) {
      error(l, std::string("'") + what + "[...]' is only allowed in properties");
      return nullptr;
    }
    advance();
    auto e = mk(k, l);
    if (!expect(Tok::LBracket)) return nullptr;
    if (!expectIdent(e->name, e->nameLoc, "a module name")) return nullptr;
    if (!expect(Tok::RBracket) || !expect(Tok::LParen)) return nullptr;
    ExprPtr a = parseExpr();
    if (!a) return nullptr;
    e->args.push_back(std::move(a));
    if (k == ExprKind::Prob && accept(Tok::Pipe)) {
      ExprPtr g = parseExpr();
      if (!g) return nullptr;
      e->args.push_back(std::move(g));
    }
    if (!expect(Tok::RParen)) return nullptr;
    if (!seal(*e)) return nullptr;
    return e;
  }

  ExprPtr parsePrimary() {
    Nest n(*this);
    if (!n.ok) return nullptr;
    SourceLoc l = here();
    switch (cur().kind) {
    case Tok::IntLit: {
      auto e = mk(ExprKind::IntLit, l);
      e->intValue = advance().intValue;
      return e;
    }
    case Tok::RealLit: {
      auto e = mk(ExprKind::RealLit, l);
      e->realValue = advance().realValue;
      return e;
    }
    case Tok::KwTrue:
    case Tok::KwFalse: {
      auto e = mk(ExprKind::BoolLit, l);
      e->boolValue = advance().kind == Tok::KwTrue;
      return e;
    }
    case Tok::KwForall:
    case Tok::KwExists:
      return parseQuant();
    case Tok::KwAlways:
      return parseModelQuery(ExprKind::Always, "always");
    case Tok::Ident: {
      if (atModelQuery("P")) return parseModelQuery(ExprKind::Prob, "P");
      if (atModelQuery("E")) return parseModelQuery(ExprKind::Expect, "E");
      std::string name(advance().text);
      if (at(Tok::LParen)) {
        advance();
        auto e = mk(ExprKind::Call, l);
        e->name = std::move(name);
        if (e->name == "Flat") {
          if (!parseFlatArgs(*e)) return nullptr;
        } else if (!parseArgs(*e, Tok::RParen)) {
          return nullptr;
        }
        if (!seal(*e)) return nullptr;
        return e;
      }
      auto e = mk(ExprKind::Name, l);
      e->name = std::move(name);
      return e;
    }
    case Tok::LParen: {
      advance();
      ExprPtr e = parseExpr();
      if (!e || !expect(Tok::RParen)) return nullptr;
      return e;
    }
    case Tok::LBracket: {
      advance();
      auto e = mk(ExprKind::ArrayLit, l);
      if (at(Tok::RBracket)) {
        error(l, "empty array literal (arrays have at least one element)");
        return nullptr;
      }
      if (!parseArgs(*e, Tok::RBracket)) return nullptr;
      if (!seal(*e)) return nullptr;
      return e;
    }
    case Tok::KwIf: {
      advance();
      auto e = mk(ExprKind::Cond, l);
      ExprPtr c = parseExpr();
      if (!c || !expect(Tok::KwThen, "in 'if c then a else b'")) return nullptr;
      ExprPtr a = parseExpr();
      if (!a || !expect(Tok::KwElse, "in 'if c then a else b'")) return nullptr;
      ExprPtr b = parseExpr();
      if (!b) return nullptr;
      e->args.push_back(std::move(c));
      e->args.push_back(std::move(a));
      e->args.push_back(std::move(b));
      if (!seal(*e)) return nullptr;
      return e;
    }
    default:
      errorExpected("an expression");
      return nullptr;
    }
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
  const std::string& file_;
  DiagnosticEngine& diags_;
  int depth_ = 0;     // expression nesting (parentheses, operands, calls)
  int stmtDepth_ = 0; // statement nesting (blocks, if, for)
  bool fatal_ = false;
  PropertyDecl* prop_ = nullptr;
};

} // namespace

std::unique_ptr<FileAST> parseFile(std::string_view source, const std::string& file,
                                   DiagnosticEngine& diags) {
  return Parser(lex(source, file, diags), file, diags).parseFile();
}

} // namespace chassis::spec
