// VNN-LIB reader (see vnnlib.h for the accepted subset and the meaning of the result).
// Three stages: a lexer that tracks 1-based line/column, an s-expression reader, and an
// interpreter that turns each `assert` into a formula in disjunctive normal form over linear
// atoms `sum a_v v + c <= 0`. The asserts are conjoined by distributing (product of the DNFs),
// capped so a pathological file cannot exhaust memory. Bounds `a x + c <= 0` on a single input
// with |a| != 1 are divided out and then widened by one ulp so the box is never smaller than
// the real one (the reader over-approximates the unsafe set; it never drops a real input).
// Numbers denote the float64 they are read as; arithmetic on them (products of constants, sums of
// like terms, moving terms across the comparison) is exact or an Error, never rounded: a product
// like (* 1e-170 1e-170 Y_0) that underflows to 0 would otherwise drop the atom (a wrong `sat`),
// and one that overflows would make an infinite coefficient. Nesting is limited to kMaxDepth
// levels so a deep file is an Error, not a stack overflow.
#include "spec/vnnlib.h"

#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <sstream>

namespace chassis::spec {
namespace {

constexpr size_t kMaxCases = 100000;
constexpr int kMaxDepth = 1000; // nesting of parentheses

/// a * b when float64 holds the product exactly: finite, not rounded, and (for a nonzero
/// product) far enough from the subnormal range that the fma residue is itself exact.
bool exactMul(double a, double b, double& out) {
  // A factor of +-1 (moving a term across a comparison) is exact at every magnitude, subnormal
  // constants included (a threshold 1e-310 is a number, not arithmetic).
  if (a == 1.0 || a == -1.0 || b == 1.0 || b == -1.0) {
    out = a * b;
    return std::isfinite(out);
  }
  double p = a * b;
  if (!std::isfinite(p)) return false;
  if (p == 0.0) {
    out = p;
    return a == 0.0 || b == 0.0;
  }
  if (std::fabs(p) < 0x1p-960 || std::fma(a, b, -p) != 0.0) return false;
  out = p;
  return true;
}

/// a + b when float64 holds the sum exactly (finite, zero rounding error by TwoSum).
bool exactAdd(double a, double b, double& out) {
  double s = a + b;
  if (!std::isfinite(s)) return false;
  double bb = s - a;
  if ((a - (s - bb)) + (b - bb) != 0.0) return false;
  out = s;
  return true;
}

struct SExpr {
  bool isList = false;
  std::string atom;
  std::vector<SExpr> kids;
  int line = 0, col = 0;
};

class Reader {
public:
  Reader(std::string_view text, const std::string& file) : text_(text), file_(file) {}

  Error err(int line, int col, std::string msg) const {
    return Error(SourceLoc{file_, line, col}, std::move(msg));
  }
  Error err(const SExpr& e, std::string msg) const { return err(e.line, e.col, std::move(msg)); }

  /// Reads every top-level s-expression.
  Expected<std::vector<SExpr>> readAll() {
    std::vector<SExpr> out;
    while (true) {
      skipSpace();
      if (pos_ >= text_.size()) break;
      auto e = readOne();
      if (!e) return e.error();
      out.push_back(std::move(*e));
    }
    return out;
  }

private:
  void advance() {
    if (text_[pos_] == '\n') {
      ++line_;
      col_ = 1;
    } else {
      ++col_;
    }
    ++pos_;
  }
  void skipSpace() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == ';') {
        while (pos_ < text_.size() && text_[pos_] != '\n')
          advance();
      } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        advance();
      } else {
        break;
      }
    }
  }
  Expected<SExpr> readOne(int depth = 0) {
    SExpr e;
    e.line = line_;
    e.col = col_;
    char c = text_[pos_];
    if (c == ')') return err(line_, col_, "unexpected ')'");
    if (c == '(') {
      if (depth >= kMaxDepth)
        return err(line_, col_,
                   "nesting deeper than " + std::to_string(kMaxDepth) + " parentheses");
      e.isList = true;
      advance();
      while (true) {
        skipSpace();
        if (pos_ >= text_.size()) return err(e.line, e.col, "unclosed '(' (missing ')')");
        if (text_[pos_] == ')') {
          advance();
          return e;
        }
        auto k = readOne(depth + 1);
        if (!k) return k.error();
        e.kids.push_back(std::move(*k));
      }
    }
    if (c == '"' || c == '|')
      return err(line_, col_, std::string("unsupported token starting with '") + c + "'");
    while (pos_ < text_.size()) {
      char d = text_[pos_];
      if (d == '(' || d == ')' || d == ';' || d == ' ' || d == '\t' || d == '\n' || d == '\r')
        break;
      e.atom += d;
      advance();
    }
    return e;
  }

  std::string_view text_;
  std::string file_;
  size_t pos_ = 0;
  int line_ = 1, col_ = 1;
};

/// A linear form sum coef[v] * v + c; variables are keyed (isOutput, index).
struct Linear {
  std::map<std::pair<bool, int>, double> coef;
  double c = 0.0;
  /// this += s * o, exactly; false when float64 would round, overflow or underflow.
  [[nodiscard]] bool add(const Linear& o, double s) {
    double p = 0.0;
    for (auto& [k, v] : o.coef)
      if (!exactMul(s, v, p) || !exactAdd(coef[k], p, coef[k])) return false;
    return exactMul(s, o.c, p) && exactAdd(c, p, c);
  }
};

/// The diagnostic of constant arithmetic that float64 cannot do exactly.
const char* kInexact = "constant arithmetic that float64 cannot do exactly (it overflows, "
                       "underflows or rounds): write the coefficient or constant as one number";

/// The atom `lin <= 0`, with the location of the comparison for diagnostics.
struct Atom {
  Linear lin;
  int line = 0, col = 0;
};
using Conj = std::vector<Atom>;
using Dnf = std::vector<Conj>;

bool looksNumeric(const std::string& s) {
  if (s.empty()) return false;
  char c = s[0];
  if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') return true;
  if ((c == '-' || c == '+') && s.size() > 1 &&
      (std::isdigit(static_cast<unsigned char>(s[1])) || s[1] == '.'))
    return true;
  return false;
}

/// Strict decimal syntax: [+-]? (d+ (. d*)? | . d+) ([eE] [+-]? d+)?
bool parseNumber(const std::string& s, double& out) {
  size_t i = 0, n = s.size();
  if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
  size_t digits = 0;
  while (i < n && std::isdigit(static_cast<unsigned char>(s[i])))
    ++i, ++digits;
  if (i < n && s[i] == '.') {
    ++i;
    while (i < n && std::isdigit(static_cast<unsigned char>(s[i])))
      ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    size_t ed = 0;
    while (i < n && std::isdigit(static_cast<unsigned char>(s[i])))
      ++i, ++ed;
    if (ed == 0) return false;
  }
  if (i != n) return false;
  std::istringstream is(s);
  is.imbue(std::locale::classic());
  is >> out;
  return !is.fail() && std::isfinite(out);
}

/// Parses "X_12" / "Y_0" into (isOutput, index).
std::optional<std::pair<bool, int>> varName(const std::string& s) {
  if (s.size() < 3 || (s[0] != 'X' && s[0] != 'Y') || s[1] != '_') return std::nullopt;
  if (s.size() > 9) return std::nullopt;
  for (size_t i = 2; i < s.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
  if (s.size() > 3 && s[2] == '0') return std::nullopt; // no leading zeros: X_01
  return std::make_pair(s[0] == 'Y', std::stoi(s.substr(2)));
}

class Interp {
public:
  Interp(const Reader& r) : r_(r) {}

  Status command(const SExpr& e) {
    if (!e.isList) return r_.err(e, "expected a command in parentheses, found '" + e.atom + "'");
    if (e.kids.empty() || e.kids[0].isList) return r_.err(e, "expected a command name");
    const std::string& head = e.kids[0].atom;
    if (head == "declare-const") return declare(e);
    if (head == "assert") {
      if (e.kids.size() != 2) return r_.err(e, "'assert' takes exactly one formula");
      auto d = formula(e.kids[1]);
      if (!d) return d.error();
      asserts_.push_back(std::move(*d));
      return Status::ok();
    }
    if (head == "check-sat" || head == "get-model" || head == "exit" || head == "set-logic" ||
        head == "set-info")
      return Status::ok();
    return r_.err(e.kids[0], "unsupported command '" + head + "'");
  }

  Expected<VnnProperty> finish() {
    int nIn = 0, nOut = 0;
    for (auto& [k, loc] : declared_) {
      (void)loc;
      (k.first ? nOut : nIn) = std::max(k.first ? nOut : nIn, k.second + 1);
    }
    for (bool out : {false, true}) {
      int n = out ? nOut : nIn;
      for (int i = 0; i < n; ++i)
        if (!declared_.count({out, i})) {
          auto& last = declared_.at({out, n - 1});
          return r_.err(last.first, last.second,
                        std::string(out ? "Y_" : "X_") + std::to_string(n - 1) +
                            " is declared but " + (out ? "Y_" : "X_") + std::to_string(i) +
                            " is not (variables must be numbered from 0 without gaps)");
        }
    }
    if (nIn == 0) return Error(SourceLoc{file_(), 0, 0}, "no input variables (X_0 ...) declared");
    if (nOut == 0) return Error(SourceLoc{file_(), 0, 0}, "no output variables (Y_0 ...) declared");

    // Conjunction of all asserts, distributed into one DNF.
    Dnf all{Conj{}};
    for (auto& d : asserts_) {
      auto p = product(std::move(all), d, 1, 1);
      if (!p) return p.error();
      all = std::move(*p);
    }
    VnnProperty prop;
    prop.numInputs = nIn;
    prop.numOutputs = nOut;
    const double inf = std::numeric_limits<double>::infinity();
    for (const Conj& conj : all) {
      VnnCase c;
      c.lo.assign(nIn, -inf);
      c.hi.assign(nIn, inf);
      bool feasible = true;
      for (const Atom& a : conj) {
        int nx = 0, ny = 0;
        std::pair<bool, int> xv{false, 0};
        double xa = 0;
        for (auto& [k, v] : a.lin.coef) {
          if (v == 0.0) continue;
          if (k.first) {
            ++ny;
          } else {
            ++nx;
            xv = k;
            xa = v;
          }
        }
        if (nx > 0 && ny > 0)
          return r_.err(a.line, a.col,
                        "unsupported constraint: it mixes inputs (X) and outputs (Y)");
        if (nx > 1)
          return r_.err(a.line, a.col,
                        "unsupported constraint over several inputs (only bounds on one X_i)");
        if (nx == 1) {
          // xa * x + c <= 0
          double b = -a.lin.c / xa;
          if (std::fabs(xa) != 1.0) b = std::nextafter(b, xa > 0 ? inf : -inf);
          b += 0.0; // -0 becomes +0
          if (xa > 0)
            c.hi[xv.second] = std::min(c.hi[xv.second], b);
          else
            c.lo[xv.second] = std::max(c.lo[xv.second], b);
        } else if (ny > 0) {
          OutputConstraint oc;
          oc.coef.assign(nOut, 0.0);
          for (auto& [k, v] : a.lin.coef)
            if (k.first) oc.coef[k.second] += v;
          oc.rhs = -a.lin.c;
          c.constraints.push_back(std::move(oc));
        } else if (a.lin.c > 0) {
          feasible = false; // constant false atom
        }
      }
      for (int i = 0; i < nIn && feasible; ++i) {
        auto& d = declared_.at({false, i});
        if (c.lo[i] == -inf)
          return r_.err(d.first, d.second,
                        "input X_" + std::to_string(i) + " has no lower bound in some case");
        if (c.hi[i] == inf)
          return r_.err(d.first, d.second,
                        "input X_" + std::to_string(i) + " has no upper bound in some case");
        if (c.lo[i] > c.hi[i]) feasible = false;
      }
      if (feasible) prop.cases.push_back(std::move(c));
    }
    return prop;
  }

private:
  const std::string& file_() const { return fileName_; }

  Status declare(const SExpr& e) {
    if (e.kids.size() != 3) return r_.err(e, "'declare-const' takes a name and a sort");
    const SExpr& name = e.kids[1];
    const SExpr& sort = e.kids[2];
    if (name.isList) return r_.err(name, "expected a variable name");
    auto v = varName(name.atom);
    if (!v)
      return r_.err(name, "unsupported variable name '" + name.atom +
                              "' (expected X_<i> for inputs or Y_<i> for outputs)");
    if (sort.isList || sort.atom != "Real")
      return r_.err(sort, "unsupported sort '" + (sort.isList ? std::string("(...)") : sort.atom) +
                              "' (only Real)");
    if (declared_.count(*v)) return r_.err(name, "variable '" + name.atom + "' declared twice");
    declared_[*v] = {name.line, name.col};
    return Status::ok();
  }

  Expected<Dnf> product(Dnf a, const Dnf& b, int line, int col) {
    if (a.size() * b.size() > kMaxCases)
      return r_.err(line, col,
                    "too many cases after distributing 'or' (more than " +
                        std::to_string(kMaxCases) + ")");
    if (b.size() == 1) { // a conjunction: appended in place (a box of thousands of asserts
                         // would otherwise copy the growing conjunction once per assert)
      for (Conj& x : a)
        x.insert(x.end(), b[0].begin(), b[0].end());
      return a;
    }
    Dnf out;
    out.reserve(a.size() * b.size());
    for (const Conj& x : a)
      for (const Conj& y : b) {
        Conj c = x;
        c.insert(c.end(), y.begin(), y.end());
        out.push_back(std::move(c));
      }
    return out;
  }

  Expected<Dnf> formula(const SExpr& e) {
    if (!e.isList) {
      if (e.atom == "true") return Dnf{Conj{}};
      if (e.atom == "false") return Dnf{};
      return r_.err(e, "expected a formula, found '" + e.atom + "'");
    }
    if (e.kids.empty() || e.kids[0].isList) return r_.err(e, "expected an operator");
    const std::string& op = e.kids[0].atom;
    if (op == "and") {
      Dnf acc{Conj{}};
      for (size_t i = 1; i < e.kids.size(); ++i) {
        auto d = formula(e.kids[i]);
        if (!d) return d.error();
        auto p = product(std::move(acc), *d, e.line, e.col);
        if (!p) return p.error();
        acc = std::move(*p);
      }
      return acc;
    }
    if (op == "or") {
      if (e.kids.size() < 2) return r_.err(e, "'or' needs at least one operand");
      Dnf acc;
      for (size_t i = 1; i < e.kids.size(); ++i) {
        auto d = formula(e.kids[i]);
        if (!d) return d.error();
        if (acc.size() + d->size() > kMaxCases)
          return r_.err(e, "too many cases in 'or' (more than " + std::to_string(kMaxCases) + ")");
        acc.insert(acc.end(), d->begin(), d->end());
      }
      return acc;
    }
    if (op == "<=" || op == ">=") {
      if (e.kids.size() < 3) return r_.err(e, "'" + op + "' needs at least two operands");
      std::vector<Linear> terms;
      for (size_t i = 1; i < e.kids.size(); ++i) {
        auto t = term(e.kids[i]);
        if (!t) return t.error();
        terms.push_back(std::move(*t));
      }
      Conj conj;
      for (size_t i = 0; i + 1 < terms.size(); ++i) {
        Atom a;
        a.line = e.kids[0].line;
        a.col = e.kids[0].col;
        // a <= b  is  a - b <= 0;  a >= b  is  b - a <= 0
        const Linear& small = op == "<=" ? terms[i] : terms[i + 1];
        const Linear& big = op == "<=" ? terms[i + 1] : terms[i];
        if (!a.lin.add(small, 1.0) || !a.lin.add(big, -1.0)) return r_.err(e.kids[0], kInexact);
        conj.push_back(std::move(a));
      }
      return Dnf{conj};
    }
    return r_.err(e.kids[0],
                  "unsupported operator '" + op + "' in a formula (supported: and, or, <=, >=)");
  }

  Expected<Linear> term(const SExpr& e) {
    Linear l;
    if (!e.isList) {
      if (looksNumeric(e.atom)) {
        double v;
        if (!parseNumber(e.atom, v)) return r_.err(e, "bad number '" + e.atom + "'");
        l.c = v;
        return l;
      }
      auto v = varName(e.atom);
      if (!v || !declared_.count(*v)) return r_.err(e, "undeclared variable '" + e.atom + "'");
      l.coef[*v] = 1.0;
      return l;
    }
    if (e.kids.empty() || e.kids[0].isList) return r_.err(e, "expected an operator");
    const std::string& op = e.kids[0].atom;
    std::vector<Linear> args;
    for (size_t i = 1; i < e.kids.size(); ++i) {
      auto t = term(e.kids[i]);
      if (!t) return t.error();
      args.push_back(std::move(*t));
    }
    if (op == "+") {
      if (args.empty()) return r_.err(e, "'+' needs at least one operand");
      for (auto& a : args)
        if (!l.add(a, 1.0)) return r_.err(e.kids[0], kInexact);
      return l;
    }
    if (op == "-") {
      if (args.empty()) return r_.err(e, "'-' needs at least one operand");
      if (args.size() == 1) {
        if (!l.add(args[0], -1.0)) return r_.err(e.kids[0], kInexact);
        return l;
      }
      if (!l.add(args[0], 1.0)) return r_.err(e.kids[0], kInexact);
      for (size_t i = 1; i < args.size(); ++i)
        if (!l.add(args[i], -1.0)) return r_.err(e.kids[0], kInexact);
      return l;
    }
    if (op == "*") {
      if (args.empty()) return r_.err(e, "'*' needs at least one operand");
      double k = 1.0;
      const Linear* var = nullptr;
      for (auto& a : args) {
        bool constant = true;
        for (auto& [key, v] : a.coef)
          if (v != 0.0) constant = false;
        if (constant) {
          if (!exactMul(k, a.c, k)) return r_.err(e.kids[0], kInexact);
        } else if (var) {
          return r_.err(e, "nonlinear term: product of variables is not supported");
        } else {
          var = &a;
        }
      }
      if (var) {
        if (!l.add(*var, k)) return r_.err(e.kids[0], kInexact);
      } else {
        l.c = k;
      }
      return l;
    }
    return r_.err(e.kids[0], "unsupported operator '" + op + "' in a term (supported: +, -, *)");
  }

public:
  std::string fileName_;

private:
  const Reader& r_;
  std::map<std::pair<bool, int>, std::pair<int, int>> declared_; // var -> (line, col)
  std::vector<Dnf> asserts_;
};

} // namespace

Expected<VnnProperty> parseVnnlib(std::string_view text, const std::string& file) {
  Reader reader(text, file);
  auto exprs = reader.readAll();
  if (!exprs) return exprs.error();
  Interp in(reader);
  in.fileName_ = file;
  for (const SExpr& e : *exprs) {
    Status s = in.command(e);
    if (!s) return s.error();
  }
  return in.finish();
}

Expected<VnnProperty> readVnnlib(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Error(SourceLoc{path, 0, 0}, "cannot open file");
  std::stringstream ss;
  ss << f.rdbuf();
  return parseVnnlib(ss.str(), path);
}

} // namespace chassis::spec
