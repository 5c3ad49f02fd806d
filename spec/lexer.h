// The lexer of the .chs language: source text -> tokens (the lexical grammar is in the comment
// at the top of spec/parser.h). Lexical errors (bad numbers, bad characters, unterminated strings
// and block comments) are reported to the DiagnosticEngine; the lexer then goes on with a
// harmless token (a bad number becomes a literal 0) so later errors are still found.
#pragma once

#include "spec/diagnostics.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chassis::spec {

enum class Tok : uint8_t {
  End,
  Ident,
  IntLit,
  RealLit,
  String,
  // keywords
  KwImport,
  KwEnum,
  KwModule,
  KwNetwork,
  KwProperty,
  KwTask,
  KwLet,
  KwVar,
  KwIf,
  KwThen,
  KwElse,
  KwFor,
  KwIn,
  KwObserve,
  KwCondition,
  KwFactor,
  KwAssert,
  KwTrue,
  KwFalse,
  KwBool,
  KwInt,
  KwReal,
  KwForall,
  KwExists,
  KwAlways,
  // punctuation and operators
  LParen,
  RParen,
  LBrace,
  RBrace,
  LBracket,
  RBracket,
  Comma,
  Semi,
  Colon,
  Dot,
  DotDot,
  Arrow,
  Assign,
  Tilde,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
  Lt,
  Le,
  Gt,
  Ge,
  EqEq,
  NotEq,
  AndAnd,
  OrOr,
  Implies,
  Bang,
  Question,
  Pipe,
};

/// How a token kind is shown in diagnostics: "identifier", "'module'", "';'", "end of file".
const char* tokName(Tok t);

struct Token {
  Tok kind = Tok::End;
  int line = 1, col = 1; // 1-based position of the first character
  std::string_view text; // the token's text in the source
  int64_t intValue = 0;  // IntLit
  double realValue = 0;  // RealLit
  std::string str;       // String: the value with escapes processed
  std::string doc;       // `///` lines directly before this token, joined with '\n'
  /// A lexical error (bad character, unterminated comment or string) came just before this
  /// token; the parser reports no syntax error at it, since that would be a cascade.
  bool afterLexError = false;
};

/// Tokenises `source` (displayed as `file` in diagnostics). The result always ends with End.
std::vector<Token> lex(std::string_view source, const std::string& file, DiagnosticEngine& diags);

} // namespace chassis::spec
