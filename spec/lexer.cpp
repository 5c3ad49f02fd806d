// The .chs lexer (spec/lexer.h): one pass over the text, no backtracking beyond a character or
// two, so it is linear in the input. Numbers are converted with std::from_chars (exact,
// locale-independent); a literal that does not fit (int64, or a finite double) is an error.
#include "spec/lexer.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <system_error>

namespace chassis::spec {

namespace {

struct Keyword {
  std::string_view text;
  Tok tok;
};

constexpr std::array<Keyword, 25> kKeywords = {{
    {"import", Tok::KwImport},     {"enum", Tok::KwEnum},
    {"module", Tok::KwModule},     {"network", Tok::KwNetwork},
    {"property", Tok::KwProperty}, {"let", Tok::KwLet},
    {"var", Tok::KwVar},           {"if", Tok::KwIf},
    {"then", Tok::KwThen},         {"else", Tok::KwElse},
    {"for", Tok::KwFor},           {"in", Tok::KwIn},
    {"observe", Tok::KwObserve},   {"condition", Tok::KwCondition},
    {"factor", Tok::KwFactor},     {"assert", Tok::KwAssert},
    {"true", Tok::KwTrue},         {"false", Tok::KwFalse},
    {"bool", Tok::KwBool},         {"int", Tok::KwInt},
    {"real", Tok::KwReal},         {"forall", Tok::KwForall},
    {"exists", Tok::KwExists},     {"always", Tok::KwAlways},
    {"task", Tok::KwTask},
}};

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}
bool isIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool isIdentChar(char c) {
  return isIdentStart(c) || isDigit(c);
}

class Lexer {
public:
  Lexer(std::string_view src, const std::string& file, DiagnosticEngine& diags)
      : src_(src), file_(file), diags_(diags) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    out.reserve(src_.size() / 4 + 1);
    while (true) {
      skipTrivia();
      Token t;
      t.line = line_;
      t.col = col_;
      if (pos_ >= src_.size()) {
        t.kind = Tok::End;
        t.afterLexError = lexErrorPending_;
        out.push_back(std::move(t));
        return out;
      }
      size_t start = pos_;
      if (!lexToken(t)) { // a bad character: reported, skipped
        lexErrorPending_ = true;
        continue;
      }
      t.text = src_.substr(start, pos_ - start);
      t.afterLexError = lexErrorPending_;
      lexErrorPending_ = t.kind == Tok::String && unterminated_;
      unterminated_ = false;
      t.doc = std::move(doc_);
      doc_.clear();
      out.push_back(std::move(t));
    }
  }

private:
  char peek(size_t k = 0) const { return pos_ + k < src_.size() ? src_[pos_ + k] : '\0'; }
  void advance() {
    if (src_[pos_] == '\n') {
      ++line_;
      col_ = 1;
    } else {
      ++col_;
    }
    ++pos_;
  }
  void error(int line, int col, std::string msg) {
    diags_.error(SourceLoc{file_, line, col}, std::move(msg));
  }

  void skipTrivia() {
    while (pos_ < src_.size()) {
      char c = peek();
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        advance();
      } else if (c == '/' && peek(1) == '/') {
        bool isDoc = peek(2) == '/' && peek(3) != '/';
        size_t textStart = pos_ + 3;
        while (pos_ < src_.size() && peek() != '\n')
          advance();
        if (isDoc) {
          std::string_view text = src_.substr(textStart, pos_ - textStart);
          if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
          if (!text.empty() && text.front() == ' ') text.remove_prefix(1);
          if (!doc_.empty()) doc_ += '\n';
          doc_ += text;
        }
      } else if (c == '/' && peek(1) == '*') {
        int l = line_, cl = col_;
        advance();
        advance();
        bool closed = false;
        while (pos_ < src_.size()) {
          if (peek() == '*' && peek(1) == '/') {
            advance();
            advance();
            closed = true;
            break;
          }
          advance();
        }
        if (!closed) {
          error(l, cl, "unterminated block comment");
          lexErrorPending_ = true;
        }
      } else {
        return;
      }
    }
  }

  // Lexes one token at pos_ into t; returns false if the character was bad (reported).
  bool lexToken(Token& t) {
    char c = peek();
    if (isIdentStart(c)) {
      size_t s = pos_;
      while (isIdentChar(peek()))
        advance();
      std::string_view w = src_.substr(s, pos_ - s);
      t.kind = Tok::Ident;
      for (const Keyword& k : kKeywords)
        if (k.text == w) t.kind = k.tok;
      return true;
    }
    if (isDigit(c)) {
      lexNumber(t);
      return true;
    }
    if (c == '"') {
      lexString(t);
      return true;
    }
    auto one = [&](Tok k) {
      advance();
      t.kind = k;
      return true;
    };
    auto two = [&](Tok k) {
      advance();
      advance();
      t.kind = k;
      return true;
    };
    char n = peek(1);
    switch (c) {
    case '(':
      return one(Tok::LParen);
    case ')':
      return one(Tok::RParen);
    case '{':
      return one(Tok::LBrace);
    case '}':
      return one(Tok::RBrace);
    case '[':
      return one(Tok::LBracket);
    case ']':
      return one(Tok::RBracket);
    case ',':
      return one(Tok::Comma);
    case ';':
      return one(Tok::Semi);
    case ':':
      return one(Tok::Colon);
    case '.':
      return n == '.' ? two(Tok::DotDot) : one(Tok::Dot);
    case '-':
      return n == '>' ? two(Tok::Arrow) : one(Tok::Minus);
    case '=':
      return n == '=' ? two(Tok::EqEq) : n == '>' ? two(Tok::Implies) : one(Tok::Assign);
    case '~':
      return one(Tok::Tilde);
    case '+':
      return one(Tok::Plus);
    case '*':
      return one(Tok::Star);
    case '/':
      return one(Tok::Slash);
    case '%':
      return one(Tok::Percent);
    case '<':
      return n == '=' ? two(Tok::Le) : one(Tok::Lt);
    case '>':
      return n == '=' ? two(Tok::Ge) : one(Tok::Gt);
    case '!':
      return n == '=' ? two(Tok::NotEq) : one(Tok::Bang);
    case '&':
      if (n == '&') return two(Tok::AndAnd);
      break;
    case '|':
      return n == '|' ? two(Tok::OrOr) : one(Tok::Pipe);
    case '?':
      return one(Tok::Question);
    default:
      break;
    }
    unsigned char uc = static_cast<unsigned char>(c);
    if (c == '&') {
      error(line_, col_, "unexpected character '&' (did you mean '&&'?)");
    } else if (uc >= 0x20 && uc < 0x7f) {
      error(line_, col_, std::string("unexpected character '") + c + "'");
    } else if (size_t n = utf8Length(); n > 0) {
      // A whole UTF-8 character (e.g. '×'): one error, named by its code point.
      uint32_t cp = uc & (n == 2 ? 0x1f : n == 3 ? 0x0f : 0x07);
      for (size_t k = 1; k < n; ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(peek(k)) & 0x3f);
      char buf[16];
      std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
      error(line_, col_,
            "unexpected character '" + std::string(src_.substr(pos_, n)) + "' (" + buf + ")");
      for (size_t k = 1; k < n; ++k)
        advance();
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "0x%02x", uc);
      error(line_, col_, std::string("unexpected byte ") + buf);
    }
    advance();
    return false;
  }

  // The length of the well-formed UTF-8 multi-byte character at pos_ (2 to 4), or 0.
  size_t utf8Length() const {
    unsigned char b0 = static_cast<unsigned char>(peek());
    size_t n = b0 >= 0xc2 && b0 <= 0xdf   ? 2
               : b0 >= 0xe0 && b0 <= 0xef ? 3
               : b0 >= 0xf0 && b0 <= 0xf4 ? 4
                                          : 0;
    if (n == 0 || pos_ + n > src_.size()) return 0;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(peek(k)) & 0xc0) != 0x80) return 0;
    unsigned char b1 = static_cast<unsigned char>(peek(1));
    if ((b0 == 0xe0 && b1 < 0xa0) || (b0 == 0xed && b1 > 0x9f) || (b0 == 0xf0 && b1 < 0x90) ||
        (b0 == 0xf4 && b1 > 0x8f))
      return 0; // overlong, surrogate or beyond U+10FFFF
    return n;
  }

  void lexNumber(Token& t) {
    int l = line_, cl = col_;
    size_t s = pos_;
    bool real = false, bad = false;
    while (isDigit(peek()))
      advance();
    if (peek() == '.' && peek(1) != '.') { // `0..10` is INT DOTDOT INT
      real = true;
      advance();
      if (!isDigit(peek())) bad = true;
      while (isDigit(peek()))
        advance();
    }
    if (peek() == 'e' || peek() == 'E') {
      real = true;
      advance();
      if (peek() == '+' || peek() == '-') advance();
      if (!isDigit(peek())) bad = true;
      while (isDigit(peek()))
        advance();
    }
    // Letters, digits or a further `.digit` glued to the literal make it malformed (`0x1`,
    // `12abc`, `1.2.3`): take them all into the one error.
    while (isIdentChar(peek()) || (peek() == '.' && isDigit(peek(1)))) {
      bad = true;
      advance();
    }
    std::string_view text = src_.substr(s, pos_ - s);
    if (bad) {
      error(l, cl, "malformed number '" + std::string(text) + "'");
      t.kind = real ? Tok::RealLit : Tok::IntLit;
      return;
    }
    if (real) {
      t.kind = Tok::RealLit;
      double v = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec == std::errc::result_out_of_range || (ec == std::errc() && !std::isfinite(v))) {
        // from_chars reports underflow as out of range too; a tiny literal is just 0. strtod
        // (the "C" locale: Chassis never sets one) tells the two apart.
        std::string copy(text);
        double w = std::strtod(copy.c_str(), nullptr);
        bool tiny = std::isfinite(w) && std::fabs(w) < 1.0;
        v = tiny ? w : v;
        if (!tiny) {
          error(l, cl, "real literal '" + std::string(text) + "' is out of range");
          v = 0;
        }
      } else if (ec != std::errc() || p != text.data() + text.size()) {
        error(l, cl, "malformed number '" + std::string(text) + "'");
        v = 0;
      }
      t.realValue = v;
    } else {
      t.kind = Tok::IntLit;
      int64_t v = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || p != text.data() + text.size()) {
        error(l, cl, "integer literal '" + std::string(text) + "' is out of range");
        v = 0;
      }
      t.intValue = v;
    }
  }

  void lexString(Token& t) {
    int l = line_, cl = col_;
    t.kind = Tok::String;
    advance(); // opening quote
    while (true) {
      if (pos_ >= src_.size() || peek() == '\n') {
        error(l, cl, "unterminated string");
        unterminated_ = true;
        return;
      }
      char c = peek();
      if (c == '"') {
        advance();
        return;
      }
      if (c == '\\') {
        int el = line_, ec = col_;
        advance();
        char e = peek();
        if (e == '"' || e == '\\')
          t.str += e;
        else if (e == 'n')
          t.str += '\n';
        else if (e == 't')
          t.str += '\t';
        else {
          error(el, ec, "unknown escape sequence in string");
          if (pos_ >= src_.size() || e == '\n') continue;
        }
        advance();
        continue;
      }
      t.str += c;
      advance();
    }
  }

  std::string_view src_;
  const std::string& file_;
  DiagnosticEngine& diags_;
  size_t pos_ = 0;
  int line_ = 1, col_ = 1;
  std::string doc_;
  bool lexErrorPending_ = false; // a lexical error since the last token
  bool unterminated_ = false;    // the string just lexed was unterminated
};

} // namespace

const char* tokName(Tok t) {
  switch (t) {
  case Tok::End:
    return "end of file";
  case Tok::Ident:
    return "identifier";
  case Tok::IntLit:
    return "integer";
  case Tok::RealLit:
    return "real number";
  case Tok::String:
    return "string";
  case Tok::KwImport:
    return "'import'";
  case Tok::KwEnum:
    return "'enum'";
  case Tok::KwModule:
    return "'module'";
  case Tok::KwNetwork:
    return "'network'";
  case Tok::KwProperty:
    return "'property'";
  case Tok::KwTask:
    return "'task'";
  case Tok::KwLet:
    return "'let'";
  case Tok::KwVar:
    return "'var'";
  case Tok::KwIf:
    return "'if'";
  case Tok::KwThen:
    return "'then'";
  case Tok::KwElse:
    return "'else'";
  case Tok::KwFor:
    return "'for'";
  case Tok::KwIn:
    return "'in'";
  case Tok::KwObserve:
    return "'observe'";
  case Tok::KwCondition:
    return "'condition'";
  case Tok::KwFactor:
    return "'factor'";
  case Tok::KwAssert:
    return "'assert'";
  case Tok::KwTrue:
    return "'true'";
  case Tok::KwFalse:
    return "'false'";
  case Tok::KwBool:
    return "'bool'";
  case Tok::KwInt:
    return "'int'";
  case Tok::KwReal:
    return "'real'";
  case Tok::KwForall:
    return "'forall'";
  case Tok::KwExists:
    return "'exists'";
  case Tok::KwAlways:
    return "'always'";
  case Tok::LParen:
    return "'('";
  case Tok::RParen:
    return "')'";
  case Tok::LBrace:
    return "'{'";
  case Tok::RBrace:
    return "'}'";
  case Tok::LBracket:
    return "'['";
  case Tok::RBracket:
    return "']'";
  case Tok::Comma:
    return "','";
  case Tok::Semi:
    return "';'";
  case Tok::Colon:
    return "':'";
  case Tok::Dot:
    return "'.'";
  case Tok::DotDot:
    return "'..'";
  case Tok::Arrow:
    return "'->'";
  case Tok::Assign:
    return "'='";
  case Tok::Tilde:
    return "'~'";
  case Tok::Plus:
    return "'+'";
  case Tok::Minus:
    return "'-'";
  case Tok::Star:
    return "'*'";
  case Tok::Slash:
    return "'/'";
  case Tok::Percent:
    return "'%'";
  case Tok::Lt:
    return "'<'";
  case Tok::Le:
    return "'<='";
  case Tok::Gt:
    return "'>'";
  case Tok::Ge:
    return "'>='";
  case Tok::EqEq:
    return "'=='";
  case Tok::NotEq:
    return "'!='";
  case Tok::AndAnd:
    return "'&&'";
  case Tok::OrOr:
    return "'||'";
  case Tok::Implies:
    return "'=>'";
  case Tok::Bang:
    return "'!'";
  case Tok::Question:
    return "'?'";
  case Tok::Pipe:
    return "'|'";
  }
  return "token";
}

std::vector<Token> lex(std::string_view source, const std::string& file, DiagnosticEngine& diags) {
  return Lexer(source, file, diags).run();
}

} // namespace chassis::spec
