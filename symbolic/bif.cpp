// BIF reader (see bif.h): a hand-written lexer (words, quoted strings, punctuation, comments)
// and a recursive-descent parser. Probability blocks are collected first and resolved against the
// declared variables once the whole file is read, so declaration order does not matter.
#include "symbolic/bif.h"

#include "symbolic/special.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

namespace chassis::symbolic {
namespace {

// The probabilities all CPTs may hold together. A `default` row fills every combination of its
// parents' states, so a few hundred bytes could otherwise ask for gigabytes (and import-bif would
// write each row out). The largest network of the bnlearn repository, diabetes, has 461,069; and
// exact inference refuses a factor beyond discrete_model.h's kMaxFactorEntries (2^22) anyway.
constexpr size_t kMaxProbabilities = size_t(1) << 21;

struct Token {
  enum Kind { Word, Punct, End } kind;
  std::string text;
  int line, col;
};

bool wordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
         c == '+' || c == '<' || c == '>' || c == '=' || c == '%' || c == '\'' || c == '&' ||
         c == '?' || c == ':' || c == '!' || c == '@' || c == '#' || c == '$' || c == '^' ||
         c == '~';
}

class Lexer {
public:
  Lexer(std::string_view text, const std::string& file) : s_(text), file_(file) {}

  Expected<std::vector<Token>> run() {
    std::vector<Token> out;
    for (;;) {
      skipSpace();
      if (error_) return *error_;
      if (i_ >= s_.size()) break;
      const int line = line_, col = col_;
      const char c = s_[i_];
      if (c == '"') {
        advance();
        std::string w;
        while (i_ < s_.size() && s_[i_] != '"' && s_[i_] != '\n') {
          w += s_[i_];
          advance();
        }
        if (i_ >= s_.size() || s_[i_] != '"')
          return Error({file_, line, col}, "unterminated string");
        advance();
        out.push_back({Token::Word, w, line, col});
      } else if (c == '=' && (i_ + 1 >= s_.size() || !wordChar(s_[i_ + 1]))) {
        advance();
        out.push_back({Token::Punct, "=", line, col});
      } else if (wordChar(c)) {
        std::string w;
        while (i_ < s_.size() && wordChar(s_[i_])) {
          w += s_[i_];
          advance();
        }
        out.push_back({Token::Word, w, line, col});
      } else if (std::string_view("{}[]()|,;").find(c) != std::string_view::npos) {
        advance();
        out.push_back({Token::Punct, std::string(1, c), line, col});
      } else {
        return Error({file_, line, col},
                     std::string("unexpected character '") +
                         (std::isprint(static_cast<unsigned char>(c)) ? std::string(1, c)
                                                                      : std::string("?")) +
                         "'");
      }
    }
    out.push_back({Token::End, "", line_, col_});
    return out;
  }

private:
  void advance() {
    if (s_[i_] == '\n') {
      ++line_;
      col_ = 1;
    } else {
      ++col_;
    }
    ++i_;
  }
  void skipSpace() {
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (std::isspace(static_cast<unsigned char>(c))) {
        advance();
      } else if (c == '/' && i_ + 1 < s_.size() && s_[i_ + 1] == '/') {
        while (i_ < s_.size() && s_[i_] != '\n')
          advance();
      } else if (c == '/' && i_ + 1 < s_.size() && s_[i_ + 1] == '*') {
        const int line = line_, col = col_;
        advance();
        advance();
        while (i_ + 1 < s_.size() && !(s_[i_] == '*' && s_[i_ + 1] == '/'))
          advance();
        if (i_ + 1 >= s_.size()) {
          error_ = Error({file_, line, col}, "unterminated comment");
          i_ = s_.size();
          return;
        }
        advance();
        advance();
      } else {
        return;
      }
    }
  }

  std::string_view s_;
  const std::string& file_;
  size_t i_ = 0;
  int line_ = 1, col_ = 1;
  std::optional<Error> error_;
};

struct NameRef {
  std::string name;
  SourceLoc loc;
};

struct RawRow {
  enum Kind { Table, Conditional, Default } kind;
  std::vector<NameRef> states; // for Conditional
  std::vector<double> probs;
  SourceLoc loc;     // of the row's first token
  SourceLoc probLoc; // of its first probability
};

struct RawBlock {
  NameRef child;
  std::vector<NameRef> parents;
  std::vector<RawRow> rows;
  SourceLoc loc;
};

class Parser {
public:
  Parser(std::vector<Token> toks, const std::string& file) : t_(std::move(toks)), file_(file) {}

  Expected<BayesNet> run() {
    while (peek().kind != Token::End) {
      const Token& k = peek();
      if (k.kind == Token::Word && k.text == "network") {
        if (auto s = network(); !s) return s.error();
      } else if (k.kind == Token::Word && k.text == "variable") {
        if (auto s = variable(); !s) return s.error();
      } else if (k.kind == Token::Word && k.text == "probability") {
        if (auto s = probability(); !s) return s.error();
      } else {
        return err(k, "expected 'network', 'variable' or 'probability', got " + show(k));
      }
    }
    return resolve();
  }

private:
  const Token& peek() const { return t_[pos_]; }
  const Token& take() { return t_[pos_ < t_.size() - 1 ? pos_++ : pos_]; }
  SourceLoc loc(const Token& t) const { return {file_, t.line, t.col}; }
  Error err(const Token& t, std::string msg) const { return Error(loc(t), std::move(msg)); }
  static std::string show(const Token& t) {
    return t.kind == Token::End ? "end of file" : "'" + t.text + "'";
  }
  bool isPunct(const Token& t, char c) const {
    return t.kind == Token::Punct && t.text.size() == 1 && t.text[0] == c;
  }
  Status expect(char c) {
    const Token& t = peek();
    if (!isPunct(t, c)) return err(t, std::string("expected '") + c + "', got " + show(t));
    take();
    return Status::ok();
  }
  Expected<NameRef> word(const char* what) {
    const Token& t = peek();
    if (t.kind != Token::Word) return err(t, std::string("expected ") + what + ", got " + show(t));
    take();
    return NameRef{t.text, loc(t)};
  }
  // property ... ;  (skipped)
  Status skipProperty() {
    take();
    while (!isPunct(peek(), ';')) {
      if (peek().kind == Token::End || isPunct(peek(), '}'))
        return err(peek(), "expected ';' to end the property, got " + show(peek()));
      take();
    }
    take();
    return Status::ok();
  }

  Status network() {
    take();
    // The name may be several words (some exporters write `network "a b" {`).
    while (peek().kind == Token::Word) {
      if (!netName_.empty()) netName_ += " ";
      netName_ += take().text;
    }
    if (auto s = expect('{'); !s) return s;
    while (!isPunct(peek(), '}')) {
      const Token& t = peek();
      if (t.kind == Token::Word && t.text == "property") {
        if (auto s = skipProperty(); !s) return s;
      } else {
        return err(t, "expected 'property' or '}', got " + show(t));
      }
    }
    take();
    return Status::ok();
  }

  Status variable() {
    take();
    auto name = word("a variable name");
    if (!name) return name.error();
    if (auto it = index_.find(name->name); it != index_.end())
      return Error(name->loc, "variable '" + name->name + "' declared twice (first at line " +
                                  std::to_string(net_.vars[it->second].loc.line) + ")");
    if (auto s = expect('{'); !s) return s;
    BnVariable v{name->name, {}, name->loc};
    bool typed = false;
    while (!isPunct(peek(), '}')) {
      const Token& t = peek();
      if (t.kind == Token::Word && t.text == "property") {
        if (auto s = skipProperty(); !s) return s;
        continue;
      }
      if (!(t.kind == Token::Word && t.text == "type"))
        return err(t, "expected 'type', 'property' or '}', got " + show(t));
      if (typed) return err(t, "variable '" + v.name + "' has two types");
      typed = true;
      take();
      const Token& d = peek();
      if (!(d.kind == Token::Word && d.text == "discrete"))
        return err(d, "only discrete variables are supported, got " + show(d));
      take();
      if (auto s = expect('['); !s) return s;
      const Token& nt = peek();
      char* end = nullptr;
      const long n = nt.kind == Token::Word ? std::strtol(nt.text.c_str(), &end, 10) : 0;
      if (nt.kind != Token::Word || *end != '\0' || n < 1 || n > 1000000)
        return err(nt, "expected the number of states, got " + show(nt));
      take();
      if (auto s = expect(']'); !s) return s;
      if (isPunct(peek(), '=')) take();
      if (auto s = expect('{'); !s) return s;
      for (;;) {
        auto st = word("a state name");
        if (!st) return st.error();
        for (const std::string& prev : v.states)
          if (prev == st->name)
            return Error(st->loc,
                         "state '" + st->name + "' listed twice in variable '" + v.name + "'");
        v.states.push_back(st->name);
        if (isPunct(peek(), ',')) {
          take();
          continue;
        }
        break;
      }
      const Token& close = peek();
      if (auto s = expect('}'); !s) return s;
      if (static_cast<long>(v.states.size()) != n)
        return err(close, "variable '" + v.name + "' declares " + std::to_string(n) +
                              " states but lists " + std::to_string(v.states.size()));
      if (auto s = expect(';'); !s) return s;
    }
    take();
    if (!typed) return Error(name->loc, "variable '" + v.name + "' has no type");
    index_[v.name] = static_cast<int>(net_.vars.size());
    net_.vars.push_back(std::move(v));
    return Status::ok();
  }

  // p1, p2, ..., pn ;  (commas optional)
  Expected<std::vector<double>> numbers() {
    std::vector<double> out;
    for (;;) {
      const Token& t = peek();
      if (t.kind != Token::Word) return err(t, "expected a probability, got " + show(t));
      char* end = nullptr;
      const double x = std::strtod(t.text.c_str(), &end);
      if (*end != '\0' || t.text.empty()) return err(t, "expected a probability, got " + show(t));
      if (!(x >= 0 && x <= 1)) return err(t, "probability must be in [0, 1], got " + t.text);
      take();
      out.push_back(x);
      if (isPunct(peek(), ',')) take();
      if (isPunct(peek(), ';')) {
        take();
        return out;
      }
    }
  }

  Status probability() {
    RawBlock b;
    b.loc = loc(take());
    if (auto s = expect('('); !s) return s;
    auto child = word("a variable name");
    if (!child) return child.error();
    b.child = *child;
    if (isPunct(peek(), '|')) {
      take();
      for (;;) {
        auto p = word("a parent variable name");
        if (!p) return p.error();
        b.parents.push_back(*p);
        if (isPunct(peek(), ',')) {
          take();
          continue;
        }
        break;
      }
    }
    if (auto s = expect(')'); !s) return s;
    if (auto s = expect('{'); !s) return s;
    while (!isPunct(peek(), '}')) {
      const Token& t = peek();
      RawRow row;
      row.loc = loc(t);
      if (t.kind == Token::Word && t.text == "property") {
        if (auto s = skipProperty(); !s) return s;
        continue;
      } else if (t.kind == Token::Word && (t.text == "table" || t.text == "default")) {
        row.kind = t.text == "table" ? RawRow::Table : RawRow::Default;
        take();
      } else if (isPunct(t, '(')) {
        row.kind = RawRow::Conditional;
        take();
        for (;;) {
          auto st = word("a state name");
          if (!st) return st.error();
          row.states.push_back(*st);
          if (isPunct(peek(), ',')) {
            take();
            continue;
          }
          break;
        }
        if (auto s = expect(')'); !s) return s;
      } else {
        return err(t, "expected 'table', 'default', '(' or '}', got " + show(t));
      }
      row.probLoc = loc(peek());
      auto ps = numbers();
      if (!ps) return ps.error();
      row.probs = std::move(*ps);
      b.rows.push_back(std::move(row));
    }
    take();
    blocks_.push_back(std::move(b));
    return Status::ok();
  }

  Expected<int> lookup(const NameRef& r) const {
    auto it = index_.find(r.name);
    if (it == index_.end()) return Error(r.loc, "unknown variable '" + r.name + "'");
    return it->second;
  }

  Status checkRow(const std::vector<double>& probs, size_t k, const SourceLoc& at,
                  const std::string& what) {
    if (probs.size() != k)
      return Error(at, "wrong number of probabilities for " + what + ": expected " +
                           std::to_string(k) + ", got " + std::to_string(probs.size()));
    double s = 0;
    for (double p : probs)
      s += p;
    if (std::abs(s - 1) > 1e-6)
      return Error(at, "probabilities for " + what + " sum to " + formatNumber(s) + ", not 1");
    return Status::ok();
  }

  Expected<BayesNet> resolve() {
    net_.name = netName_;
    const size_t n = net_.vars.size();
    net_.cpts.assign(n, BnCpt{});
    std::vector<bool> done(n, false);
    size_t held = 0; // the probabilities of the CPTs so far
    for (const RawBlock& b : blocks_) {
      auto c = lookup(b.child);
      if (!c) return c.error();
      if (done[*c])
        return Error(b.child.loc, "second probability block for '" + b.child.name + "'");
      done[*c] = true;
      BnCpt cpt;
      cpt.child = *c;
      cpt.loc = b.loc;
      for (const NameRef& p : b.parents) {
        auto pi = lookup(p);
        if (!pi) return pi.error();
        if (*pi == *c) return Error(p.loc, "variable '" + p.name + "' is its own parent");
        for (int q : cpt.parents)
          if (q == *pi) return Error(p.loc, "parent '" + p.name + "' listed twice");
        cpt.parents.push_back(*pi);
      }
      const size_t k = net_.vars[*c].states.size();
      // rows * k <= the room left, checked by division (every variable has a state).
      const size_t room = kMaxProbabilities - held;
      bool tooMany = k > room;
      size_t rows = 1;
      for (int p : cpt.parents) {
        const size_t states = net_.vars[p].states.size();
        if (tooMany || rows > room / k / states) {
          tooMany = true;
          break;
        }
        rows *= states;
      }
      if (tooMany)
        return Error(b.loc, "the CPT of '" + b.child.name + "' takes the network past " +
                                std::to_string(kMaxProbabilities) +
                                " probabilities, the most the reader accepts");
      held += rows * k;
      std::vector<double> probs(rows * k, 0.0);
      std::vector<bool> have(rows, false);
      const std::vector<double>* fallback = nullptr;
      for (const RawRow& r : b.rows) {
        if (r.kind == RawRow::Table) {
          if (!cpt.parents.empty())
            return Error(r.loc, "'table' in a probability block with parents is not supported "
                                "(its value order is ambiguous); write one '(states) p...;' row "
                                "per parent assignment");
          if (auto s = checkRow(r.probs, k, r.probLoc, "'" + b.child.name + "'"); !s)
            return s.error();
          if (have[0]) return Error(r.loc, "probabilities for '" + b.child.name + "' given twice");
          std::copy(r.probs.begin(), r.probs.end(), probs.begin());
          have[0] = true;
        } else if (r.kind == RawRow::Default) {
          if (auto s = checkRow(r.probs, k, r.probLoc, "'" + b.child.name + "' (default)"); !s)
            return s.error();
          fallback = &r.probs;
        } else {
          if (r.states.size() != cpt.parents.size())
            return Error(r.loc, "row gives " + std::to_string(r.states.size()) +
                                    " parent states, but '" + b.child.name + "' has " +
                                    std::to_string(cpt.parents.size()) + " parents");
          size_t row = 0;
          std::string given;
          for (size_t j = 0; j < r.states.size(); ++j) {
            const int p = cpt.parents[j];
            const int s = net_.findState(p, r.states[j].name);
            if (s < 0)
              return Error(r.states[j].loc, "unknown state '" + r.states[j].name +
                                                "' of variable '" + net_.vars[p].name + "'");
            row = row * net_.vars[p].states.size() + static_cast<size_t>(s);
            given += (j ? ", " : "") + r.states[j].name;
          }
          const std::string what = "'" + b.child.name + "' given (" + given + ")";
          if (auto s = checkRow(r.probs, k, r.probLoc, what); !s) return s.error();
          if (have[row]) return Error(r.loc, "probabilities for " + what + " given twice");
          std::copy(r.probs.begin(), r.probs.end(), probs.begin() + row * k);
          have[row] = true;
        }
      }
      for (size_t row = 0; row < rows; ++row) {
        if (have[row]) continue;
        if (!fallback) {
          std::string given;
          size_t rem = row;
          std::vector<std::string> parts(cpt.parents.size());
          for (size_t j = cpt.parents.size(); j-- > 0;) {
            const auto& st = net_.vars[cpt.parents[j]].states;
            parts[j] = st[rem % st.size()];
            rem /= st.size();
          }
          for (size_t j = 0; j < parts.size(); ++j)
            given += (j ? ", " : "") + parts[j];
          return Error(b.loc, "missing probabilities for '" + b.child.name + "'" +
                                  (cpt.parents.empty() ? "" : " given (" + given + ")"));
        }
        std::copy(fallback->begin(), fallback->end(), probs.begin() + row * k);
      }
      // Normalise each row exactly (they sum to 1 within 1e-6).
      for (size_t row = 0; row < rows; ++row) {
        double s = 0;
        for (size_t j = 0; j < k; ++j)
          s += probs[row * k + j];
        for (size_t j = 0; j < k; ++j)
          probs[row * k + j] /= s;
      }
      cpt.probs = std::move(probs);
      net_.cpts[*c] = std::move(cpt);
    }
    for (size_t v = 0; v < n; ++v)
      if (!done[v])
        return Error(net_.vars[v].loc,
                     "variable '" + net_.vars[v].name + "' has no probability block");
    if (n == 0) return Error(SourceLoc{file_, 0, 0}, "no variables in the network");
    if (auto order = net_.topologicalOrder(); !order) {
      Error e = order.error();
      return Error(SourceLoc{file_, e.loc.line, e.loc.col}, e.message);
    }
    return std::move(net_);
  }

  std::vector<Token> t_;
  size_t pos_ = 0;
  const std::string& file_;
  std::string netName_;
  BayesNet net_;
  std::map<std::string, int> index_;
  std::vector<RawBlock> blocks_;
};

} // namespace

Expected<BayesNet> parseBif(std::string_view text, const std::string& file) {
  auto toks = Lexer(text, file).run();
  if (!toks) return toks.error();
  return Parser(std::move(*toks), file).run();
}

Expected<BayesNet> readBifFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(SourceLoc{path, 0, 0}, "cannot open file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parseBif(ss.str(), path);
}

} // namespace chassis::symbolic
