// The parser of the .chs language: tokens (spec/lexer.h) -> an unchecked FileAST (spec/ast.h).
// Recursive descent, one function per grammar rule below; syntax errors go to the
// DiagnosticEngine and the parser recovers at the next statement (`;` or `}`) or the next
// top-level declaration keyword, so one file can report several errors. Nesting is bounded
// (kMaxNesting, kMaxExprHeight) so hostile input cannot exhaust the stack.
//
// ============================================================================================
// GRAMMAR (EBNF; `{ x }` repeats, `[ x ]` is optional; 'x' is a literal token)
//
//   file        = { decl } ;
//   decl        = [ doc ] ( import | enum | module | network | property | task ) ;
//   doc         = "///" comment lines directly before a declaration (kept in Decl::doc)
//   import      = 'import' STRING ';' ;            path relative to the importing file's directory
//   enum        = 'enum' IDENT '{' IDENT { ',' IDENT } [ ',' ] '}' ;
//   module      = 'module' IDENT '(' [ params ] ')' [ '->' '(' [ params ] ')' ] block ;
//   network     = 'network' IDENT '(' params ')' '->' '(' params ')'
//                 '=' ( 'onnx' | 'nnet' ) '(' STRING ')' ';' ;
//   property    = 'property' IDENT ':' expr ';' ;
//   params      = param { ',' param } ;
//   param       = IDENT ':' type [ 'in' '[' expr ',' expr ']' ] ;    ranges on inputs only
//   type        = ( 'bool' | 'int' | 'real' | IDENT ) [ '[' INT ']' ] ;   IDENT: an enum
//
//   task        = 'task' IDENT '{' { clause } '}' ;   each clause at most once, in any order;
//                                                    inputs, label and network are required
//   clause      = 'inputs' ':' IDENT ';'  |  'label' ':' IDENT '.' IDENT ';'
//               | 'network' ':' netform ';'
//               | 'box' ':' boxentry { ',' boxentry } ';'
//               | 'properties' ':' IDENT { ',' IDENT } ';' ;
//   netform     = ( 'onnx' | 'nnet' ) '(' STRING ')'
//               | ( 'train' | 'compile' ) '(' [ option { ',' option } ] ')' ;
//   option      = IDENT '=' ( number | '[' number { ',' number } ']' ) ;
//   boxentry    = IDENT 'in' '[' number ',' number ']' ;
//   number      = [ '-' ] ( INT | REAL ) ;
//
//   block       = '{' { stmt } '}' ;
//   stmt        = 'let' IDENT [ ':' type ] '=' expr ';'
//               | 'var' IDENT ':' type [ '=' expr ] ';'
//               | IDENT [ '[' expr ']' ] '=' expr ';'
//               | IDENT [ '[' expr ']' ] '~' dist ';'
//               | 'observe' '(' dist ',' expr ')' ';'
//               | 'condition' '(' expr ')' ';'
//               | 'factor' '(' expr ')' ';'
//               | 'assert' expr [ ':' STRING ] ';'      also `assert(b);` (parentheses = expr)
//               | 'if' expr block [ 'else' ( if-stmt | block ) ]
//               | 'for' IDENT 'in' expr '..' expr block ;
//   dist        = IDENT '(' [ expr { ',' expr } ] ')'      a distribution of distributions.def
//               | 'Flat' '(' [ bound { ',' bound } | 'positive' | 'simplex' | 'ordered' ] ')' ;
//   bound       = ( 'lower' | 'upper' ) '=' expr ;             each at most once
//
//   expr        = quantified | implication ;
//   quantified  = ( 'forall' | 'exists' ) binder { ',' binder } ':' expr ;   (properties only)
//   binder      = IDENT 'in' ( '[' expr ',' expr ']' | 'bool' | IDENT ) ;
//                                                   a box (real variable) | bool | an enum
//   implication = ternary [ '=>' expr ] ;           lowest precedence, right associative
//   ternary     = or [ '?' expr ':' ternary ] ;
//   or          = and { '||' and } ;
//   and         = equality { '&&' equality } ;
//   equality    = comparison { ( '==' | '!=' ) comparison } ;
//   comparison  = additive { ( '<' | '<=' | '>' | '>=' ) additive } ;
//   additive    = term { ( '+' | '-' ) term } ;
//   term        = unary { ( '*' | '/' | '%' ) unary } ;
//   unary       = ( '-' | '!' ) unary | postfix ;
//   postfix     = primary { '[' expr ']' | '.' IDENT } ;
//   primary     = INT | REAL | 'true' | 'false' | IDENT | IDENT '(' [ expr { ',' expr } ] ')'
//               | '(' expr ')' | '[' expr { ',' expr } ']'
//               | 'if' expr 'then' expr 'else' expr
//               | quantified
//               | 'always' '[' IDENT ']' '(' expr ')'                    (properties only)
//               | 'P' '[' IDENT ']' '(' expr [ '|' expr ] ')'            (properties only)
//               | 'E' '[' IDENT ']' '(' expr ')' ;                       (properties only)
//
// Lexical: `//` line comments, `/* */` block comments (not nested; unterminated is an error at
// its start), `///` doc comments. INT = digits (must fit int64). REAL = digits '.' digits
// [exponent] | digits exponent, exponent = ('e'|'E') ['+'|'-'] digits. `1e`, `1.`, `0x1`,
// `1.2.3`, `12abc` are errors. STRING = '"' ... '"' with escapes \" \\ \n \t (no newlines).
// Keywords (reserved): import enum module network property task let var if then else for in
// observe condition factor assert true false bool int real forall exists always. `P` and `E` are
// only special when followed by `[ IDENT ] (`; `onnx` and `nnet` only after a network's `=`;
// a task's clause names (inputs label box properties) and network forms (onnx nnet train
// compile) only inside a task.
//
// ============================================================================================
// MEANING, in brief (the checker enforces all of this; see spec/ast.h for what it guarantees)
//
// * Names: enums, modules, networks, properties and tasks share one global namespace across all
//   imported files (an import brings in everything; a file imported twice is loaded once; an
//   import cycle is an error naming the cycle). Inside a module: inputs, outputs, `let`, `var`,
//   loop indices and random choices; a name may not be redeclared in the same module (no
//   shadowing of inputs/outputs/locals, including in nested blocks). Enum constants are written
//   `Color.Red` or bare `Red` (bare only if exactly one enum has that constant and no variable
//   has that name).
// * Types: bool, int, real, enums, 1-D arrays T[N] (N a positive integer literal; no arrays of
//   arrays). int promotes to real implicitly in arithmetic, comparisons, arguments and
//   assignments; bool is not a number; there is no real -> int conversion. `/` is real division;
//   `%` is on ints. Arithmetic and comparisons are on scalars; builtins are elementwise on
//   arrays where spec/ast.h says so. Array literals `[e, ...]` are non-empty.
// * `let x = e;` binds an immutable local. `var x: T;` declares a mutable local, zero-initialised
//   (0, 0.0, false, the first enum constant, element-wise for arrays) unless `= e` is given; a
//   var can be assigned (`x = e;`, `x[i] = e;`) any number of times and be the target of `~`.
// * `x ~ D(args);` draws a random choice named x. If x is not declared it becomes a fresh
//   variable of D's result type (bool, int or real), immutable afterwards. `x[i] ~ D(args);`
//   draws into an element of an array output or array var. A fresh (undeclared) random choice
//   may not be drawn inside a loop (its address would repeat): declare an array and draw x[i].
// * `observe(D(args), v);` conditions on v being drawn from D; `condition(b);` conditions on b;
//   `factor(w);` multiplies the weight by exp(w) (w real); `assert b;` / `assert b : "msg";`
//   fails the run if b is false.
// * `for i in a..b { }`: a and b constant integer expressions (literals and + - * % and unary -
//   on them), half-open [a, b); i is an immutable int.
// * Assignment rule for outputs: every output is assigned (by `=` or `~`) exactly once on every
//   path through the body, and not read before it is assigned. An `if` assigns an output if
//   both branches do; assigning in only one branch is an error ("is not assigned on every
//   path"). Inside loops, an output may only be assigned element-wise, as `x[i] = e;` or
//   `x[i] ~ D;`, in a loop `for i in 0..N` that is not nested in another loop, where i is that
//   loop's index and N the array's length, and the element is assigned exactly once per
//   iteration (by the same rule, so both branches of an `if` may do it); such a loop assigns the
//   whole output. While the loop runs, only `x[i]` of that output may be read. Any other
//   assignment of an output inside a loop, or an element-wise assignment outside such a loop,
//   is an error. Locals (`var`) have no such rule.
// * Calls `M(args)` run a module or a network; `M(args).out` selects an output; a callee with
//   exactly one output can be used directly as a value. Each call expression is its own
//   execution (its random choices are drawn anew). Recursion (direct or mutual) is an error.
// * Properties: `forall`/`exists` bind real variables over a box `x in [a, b]` (constant
//   bounds), enum variables `c in Color`, and bool variables `b in bool`; the body extends as far
//   right as possible. `always[M](e)`: e holds on every execution of M in its support (e over
//   M's inputs, outputs and top-level random choices). `P[M](event)` / `P[M](event | given)` is
//   the probability of event (given `given`) under M's distribution, a real to compare with
//   `<=`, `<`, `>=`, `>`; `E[M](e)` is the expectation of the real/int e. A property body is
//   bool. always[M] may name any module (its inputs range over their declared ranges, or are
//   unconstrained); P[M] and E[M] need a module without inputs (its distribution is defined).
//   Shapes: a property is always[M](e), or P[M](..) / E[M](..) compared with a constant number,
//   or forall/exists binders around a body without always/P/E; random modules are called only
//   as the M of always/P/E (the back ends' rule; spec/ast.h).
// * Tasks name what `chassis compare` compares; their rules are spec/LANGUAGE.md §12 and the
//   TaskDecl comment in spec/ast.h. They do not lower to the IR.
// ============================================================================================
#pragma once

#include "spec/ast.h"
#include "spec/diagnostics.h"
#include "spec/lexer.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace chassis::spec {

/// Maximum depth of the parser's recursion, counted separately for statements (blocks, if, for)
/// and for expressions (parentheses, unary operators, calls, operands). Deeper input gets the
/// error "expression nested too deeply (limit 256)" or "statements nested too deeply (limit 256)"
/// and the file is not parsed further.
inline constexpr int kMaxNesting = 256;

/// Maximum height of an expression tree. Left-associative chains (`a + b + ... + z`) are parsed
/// by a loop, not recursion, but every later pass recurses over the tree, so its height is
/// bounded separately. Under AddressSanitizer at -O0 the lowering needs 8-16 KB of stack per level
/// (a height of 1000 overflowed an 8 MB stack, and passed with 16 MB), so 400 levels keep it
/// inside 8 MB (tests/spec/frontend_limits_test.cpp checks a 400-term sum and lowers it).
inline constexpr int kMaxExprHeight = 400;

/// Maximum length of an array type `T[N]`: lowering expands elementwise builtins per element and
/// the back ends allocate every element. Longer is an error at the length literal.
inline constexpr int64_t kMaxArrayLength = 1'000'000;

/// Parses `source` (the contents of `file`, displayed as `file` in diagnostics). Errors go to
/// `diags`; the returned FileAST holds whatever was parsed (incomplete if there were errors).
std::unique_ptr<FileAST> parseFile(std::string_view source, const std::string& file,
                                   DiagnosticEngine& diags);

} // namespace chassis::spec
