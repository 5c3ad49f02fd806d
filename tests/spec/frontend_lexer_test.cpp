// Unit tests of the .chs lexer (spec/lexer.h): every token kind, numbers, strings, comments, doc
// comments, and the exact diagnostics for bad literals.
#include <catch2/catch.hpp>

#include "spec/lexer.h"

using namespace chassis::spec;

namespace {

std::vector<Token> lexOk(const std::string& src) {
  DiagnosticEngine d;
  auto t = lex(src, "t.chs", d);
  INFO(d.str());
  REQUIRE(!d.hasErrors());
  return t;
}

std::vector<Tok> kinds(const std::string& src) {
  std::vector<Tok> k;
  for (auto& t : lexOk(src))
    k.push_back(t.kind);
  return k;
}

std::vector<std::string> lexErrors(const std::string& src) {
  DiagnosticEngine d;
  (void)lex(src, "t.chs", d);
  return d.messages();
}

} // namespace

TEST_CASE("lexer: keywords", "[frontend][lexer]") {
  auto k = kinds("import enum module network property let var if then else for in observe "
                 "condition factor assert true false bool int real forall exists always task");
  std::vector<Tok> want = {Tok::KwImport,   Tok::KwEnum,      Tok::KwModule, Tok::KwNetwork,
                           Tok::KwProperty, Tok::KwLet,       Tok::KwVar,    Tok::KwIf,
                           Tok::KwThen,     Tok::KwElse,      Tok::KwFor,    Tok::KwIn,
                           Tok::KwObserve,  Tok::KwCondition, Tok::KwFactor, Tok::KwAssert,
                           Tok::KwTrue,     Tok::KwFalse,     Tok::KwBool,   Tok::KwInt,
                           Tok::KwReal,     Tok::KwForall,    Tok::KwExists, Tok::KwAlways,
                           Tok::KwTask,     Tok::End};
  CHECK(k == want);
}

TEST_CASE("lexer: punctuation and operators", "[frontend][lexer]") {
  auto k = kinds("( ) { } [ ] , ; : . .. -> = ~ + - * / % < <= > >= == != && || => ! ? |");
  std::vector<Tok> want = {Tok::LParen,   Tok::RParen, Tok::LBrace,  Tok::RBrace,  Tok::LBracket,
                           Tok::RBracket, Tok::Comma,  Tok::Semi,    Tok::Colon,   Tok::Dot,
                           Tok::DotDot,   Tok::Arrow,  Tok::Assign,  Tok::Tilde,   Tok::Plus,
                           Tok::Minus,    Tok::Star,   Tok::Slash,   Tok::Percent, Tok::Lt,
                           Tok::Le,       Tok::Gt,     Tok::Ge,      Tok::EqEq,    Tok::NotEq,
                           Tok::AndAnd,   Tok::OrOr,   Tok::Implies, Tok::Bang,    Tok::Question,
                           Tok::Pipe,     Tok::End};
  CHECK(k == want);
}

TEST_CASE("lexer: identifiers, numbers and strings with values and positions",
          "[frontend][lexer]") {
  const std::string src = "x_1 42 3.25 1e3 2.5E-2 \"a\\\"b\\n\"\n  P"; // tokens view into it
  auto t = lexOk(src);
  REQUIRE(t.size() == 8);
  CHECK(t[0].kind == Tok::Ident);
  CHECK(t[0].text == "x_1");
  CHECK(t[1].kind == Tok::IntLit);
  CHECK(t[1].intValue == 42);
  CHECK(t[2].kind == Tok::RealLit);
  CHECK(t[2].realValue == 3.25);
  CHECK(t[3].kind == Tok::RealLit);
  CHECK(t[3].realValue == 1000.0);
  CHECK(t[4].realValue == 0.025);
  CHECK(t[5].kind == Tok::String);
  CHECK(t[5].str == "a\"b\n");
  CHECK(t[6].kind == Tok::Ident);
  CHECK(t[6].line == 2);
  CHECK(t[6].col == 3);
  CHECK(t[1].col == 5);
}

TEST_CASE("lexer: ranges lex as int .. int", "[frontend][lexer]") {
  auto t = lexOk("0..10");
  REQUIRE(t.size() == 4);
  CHECK(t[0].kind == Tok::IntLit);
  CHECK(t[1].kind == Tok::DotDot);
  CHECK(t[2].intValue == 10);
}

TEST_CASE("lexer: int64 limits", "[frontend][lexer]") {
  auto t = lexOk("9223372036854775807");
  CHECK(t[0].intValue == INT64_MAX);
  CHECK(lexErrors("x 9223372036854775808") ==
        std::vector<std::string>{
            "t.chs:1:3: error: integer literal '9223372036854775808' is out of range"});
}

TEST_CASE("lexer: bad numbers are errors at their start", "[frontend][lexer]") {
  CHECK(lexErrors("1e") == std::vector<std::string>{"t.chs:1:1: error: malformed number '1e'"});
  CHECK(lexErrors("  0x1F") ==
        std::vector<std::string>{"t.chs:1:3: error: malformed number '0x1F'"});
  CHECK(lexErrors("1.2.3") ==
        std::vector<std::string>{"t.chs:1:1: error: malformed number '1.2.3'"});
  CHECK(lexErrors("1.") == std::vector<std::string>{"t.chs:1:1: error: malformed number '1.'"});
  CHECK(lexErrors("12abc") ==
        std::vector<std::string>{"t.chs:1:1: error: malformed number '12abc'"});
  CHECK(lexErrors("1e+") == std::vector<std::string>{"t.chs:1:1: error: malformed number '1e+'"});
  CHECK(lexErrors("1e999") ==
        std::vector<std::string>{"t.chs:1:1: error: real literal '1e999' is out of range"});
  // Underflow is not an error: the literal is 0 (or a subnormal).
  CHECK(lexErrors("1e-400").empty());
}

TEST_CASE("lexer: comments and doc comments", "[frontend][lexer]") {
  auto t = lexOk("// line\n/* block\n comment */ /// first\n/// second\nmodule //// not doc\nx");
  REQUIRE(t.size() == 3);
  CHECK(t[0].kind == Tok::KwModule);
  CHECK(t[0].doc == "first\nsecond");
  CHECK(t[0].line == 5);
  CHECK(t[1].doc.empty());
}

TEST_CASE("lexer: unterminated comment and string, bad characters", "[frontend][lexer]") {
  CHECK(lexErrors("x /* never closed\n\n") ==
        std::vector<std::string>{"t.chs:1:3: error: unterminated block comment"});
  CHECK(lexErrors("import \"abc\n;") ==
        std::vector<std::string>{"t.chs:1:8: error: unterminated string"});
  CHECK(lexErrors("a # b") ==
        std::vector<std::string>{"t.chs:1:3: error: unexpected character '#'"});
  CHECK(
      lexErrors("a & b") ==
      std::vector<std::string>{"t.chs:1:3: error: unexpected character '&' (did you mean '&&'?)"});
  CHECK(lexErrors("\"\\q\"") ==
        std::vector<std::string>{"t.chs:1:2: error: unknown escape sequence in string"});
}

TEST_CASE("lexer: a UTF-8 character is one error; stray bytes are named", "[frontend][lexer]") {
  CHECK(lexErrors("a \xc3\x97 b") ==
        std::vector<std::string>{"t.chs:1:3: error: unexpected character '\xc3\x97' (U+00D7)"});
  CHECK(lexErrors("a \xe2\x88\x80") ==
        std::vector<std::string>{"t.chs:1:3: error: unexpected character '\xe2\x88\x80' (U+2200)"});
  CHECK(lexErrors("\x97\xc3") ==
        std::vector<std::string>{"t.chs:1:1: error: unexpected byte 0x97",
                                 "t.chs:1:2: error: unexpected byte 0xc3"});
}

TEST_CASE("lexer: the token after a lexical error is marked", "[frontend][lexer]") {
  DiagnosticEngine d;
  const std::string src = "a @ b c";
  auto t = lex(src, "t.chs", d);
  REQUIRE(t.size() == 4);
  CHECK(!t[0].afterLexError);
  CHECK(t[1].afterLexError);
  CHECK(!t[2].afterLexError);
}
