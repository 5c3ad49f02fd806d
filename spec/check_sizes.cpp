// Sizes, types and ranges of declarations: the type a type expression names (an array length
// written as a name is an int input whose value the run's data gives, or its one-value range
// fixes), the constant ranges of inputs, and, after the bodies (entry checkDataSizes), the data's
// values checked against the declared ranges and lengths.
#include "spec/check_context.h"

#include "spec/checker.h"
#include "spec/parser.h"

#include <string>
#include <string_view>

namespace chassis::spec::check {

Type resolveType(CheckContext& ctx, const TypeExpr& t, const CallableDecl* sizeOwner) {
  Type base;
  if (t.name == "bool")
    base = Type::boolean();
  else if (t.name == "int")
    base = Type::integer();
  else if (t.name == "real")
    base = Type::real();
  else {
    auto it = ctx.globals.find(t.name);
    if (it == ctx.globals.end() || it->second->kind != DeclKind::Enum) {
      ctx.error(t.loc, "unknown type '" + t.name + "'");
      return Type::error();
    }
    base = Type::enumeration(static_cast<EnumDecl*>(it->second));
  }
  if (base.isError()) return base;
  if (t.lengthName.empty() && t.arrayLength <= 0) return base;
  auto length = [&](int64_t literal, const std::string& name,
                    const SourceLoc& loc) -> std::optional<int64_t> {
    if (name.empty()) return literal;
    return dataSize(ctx, sizeOwner, name, loc, "array length");
  };
  auto n = length(t.arrayLength, t.lengthName, t.lengthLoc);
  if (!t.isMatrix()) return n ? Type::array(base, *n) : Type::error();
  auto k = length(t.colsLength, t.colsName, t.colsLoc);
  if (!n || !k) return Type::error();
  if (*n * *k > kMaxArrayLength) {
    ctx.error(t.loc, "array " + t.name + "[" + std::to_string(*n) + ", " + std::to_string(*k) +
                         "] has " + std::to_string(*n * *k) +
                         " elements, too many; the limit is " + std::to_string(kMaxArrayLength));
    return Type::error();
  }
  return Type::matrix(base, *n, *k);
}

// `name` used as an array length or in a loop bound (`what`) of the callable being checked
// (sizeOwner): it must be an int input whose value the run's data gives, at least 1 for a
// length. Records the value on the input (VarDecl::sizeValue). Reports an error at `at` and
// returns nullopt otherwise, or, with `why`, leaves the report to the caller.
std::optional<int64_t> dataSize(CheckContext& ctx, const CallableDecl* sizeOwner,
                                const std::string& name, const SourceLoc& at, const char* what,
                                std::string* why) {
  // One report per name and callable: a size used in several places fails once.
  auto fail = [&](const std::string& msg) -> std::optional<int64_t> {
    if (ctx.sizeFailed.insert({sizeOwner, name}).second) {
      if (why) {
        *why = msg;
        ctx.sizeWhyShown = false;
      } else {
        ctx.error(at, msg);
      }
    } else if (why) {
      ctx.sizeWhyShown = true; // already reported: the caller stays silent
    }
    return std::nullopt;
  };
  const CallableDecl* c = sizeOwner;
  if (!c) return fail(std::string(what) + " '" + name + "' must be an integer literal here");
  VarDecl* in = nullptr;
  for (VarDecl* v : c->inputs)
    if (v->name == name) in = v;
  if (!in)
    return fail(std::string(what) + " '" + name + "' is not an input of " + callableWord(c) + " '" +
                c->name +
                "': a size is an integer literal or an int input whose value "
                "the data gives");
  const TypeExpr* te = in->typeExpr ? &*in->typeExpr : nullptr;
  if (!te || te->name != "int" || te->arrayLength != 0 || !te->lengthName.empty())
    return fail(std::string(what) + " '" + name + "' must be an int input; '" + name + "' is " +
                (te ? te->name + (te->arrayLength || !te->lengthName.empty() ? "[...]" : "")
                    : std::string("untyped")));
  if (c->kind == DeclKind::Network)
    return fail("network sizes must be integer literals (a network's shape is fixed by its "
                "file)");
  if (in->sizeValue) return in->sizeValue;
  const DataValue* d = nullptr;
  if (ctx.sizes)
    if (auto it = ctx.sizes->values.find(name); it != ctx.sizes->values.end()) d = &it->second;
  if (!d && in->rangeLo && in->rangeHi) {
    // A constant parameter: an int input whose declared range holds one value, `T: int in
    // [5, 5]`, is that value without data.
    std::string ignored;
    auto lo = constEval(*in->rangeLo, ignored), hi = constEval(*in->rangeHi, ignored);
    if (lo && hi && lo->isInt && hi->isInt && lo->i == hi->i) {
      DataValue fixed;
      fixed.origin = "input's range";
      fixed.integer = lo->i;
      fixed.isNumber = true;
      ctx.rangeSizes.push_back(fixed);
      d = &ctx.rangeSizes.back();
    }
  }
  if (!d)
    return fail(std::string(what) + " '" + name + "' is not known: it is the input '" + name +
                "', whose value comes from the data of a run (give it with --data FILE or "
                "--input " +
                name + "=N, or fix it with a range 'in [N, N]')");
  if (!d->integer)
    return fail(std::string(what) + " '" + name + "' must be an integer, but " + d->origin +
                " gives '" + name + "' " +
                (d->isNumber      ? "a non-integral number"
                 : d->arrayLength ? "an array"
                                  : "a non-number"));
  const int64_t n = *d->integer;
  const bool length = std::string_view(what) == "array length";
  if (n < 0 || (n == 0 && length))
    return fail(std::string(what) + " " + name + " = " + std::to_string(n) + " (from " + d->origin +
                ") must be " +
                (length ? n < 0 ? "at least 1" : "at least 1 (empty arrays are not supported yet)"
                        : "non-negative"));
  if (n > kMaxArrayLength)
    return fail(std::string(what) + " " + name + " = " + std::to_string(n) + " (from " + d->origin +
                ") is too large; the limit is " + std::to_string(kMaxArrayLength));
  in->sizeValue = n;
  return n;
}

// Evaluates `in [lo, hi]` of `v` (type already resolved) into v.range.
void checkRange(CheckContext& ctx, VarDecl& v, const char* what) {
  if (!v.rangeLo) return;
  if (v.type.isError()) return;
  TypeKind k = v.type.isArray() ? v.type.elem : v.type.kind;
  if (k != TypeKind::Int && k != TypeKind::Real) {
    ctx.error(v.rangeLo->loc, std::string("only int and real ") + what + "s can have a range; '" +
                                  v.name + "' is " + v.type.str());
    return;
  }
  std::string why;
  auto lo = constEval(*v.rangeLo, why);
  if (!lo) {
    ctx.error(v.rangeLo->loc, "range bounds must be constant numbers (" + why + ")");
    return;
  }
  auto hi = constEval(*v.rangeHi, why);
  if (!hi) {
    ctx.error(v.rangeHi->loc, "range bounds must be constant numbers (" + why + ")");
    return;
  }
  if (k == TypeKind::Int && (!lo->isInt || !hi->isInt)) {
    ctx.error((!lo->isInt ? v.rangeLo : v.rangeHi)->loc,
              "range bounds of int " + std::string(what) + " '" + v.name + "' must be integers");
    return;
  }
  if (lo->real() > hi->real()) {
    ctx.error(v.rangeLo->loc, "inverted range [" + formatNumber(*lo) + ", " + formatNumber(*hi) +
                                  "] for '" + v.name + "' (lower bound above upper bound)");
    return;
  }
  v.range = Range{lo->real(), hi->real()};
}

namespace {

// A matrix input `x: T[N, K]` with data: the data must be N rows of K elements each.
void checkMatrixData(CheckContext& ctx, const VarDecl& v) {
  auto it = ctx.sizes->values.find(v.name);
  if (it == ctx.sizes->values.end() || !it->second.arrayLength) return;
  const DataValue& d = it->second;
  const Type& t = v.type;
  const TypeExpr* te = v.typeExpr ? &*v.typeExpr : nullptr;
  auto dim = [](const std::string& name, int64_t n) {
    return name.empty() ? std::to_string(n) : name + " = " + std::to_string(n);
  };
  const std::string shape =
      te ? dim(te->lengthName, t.rows()) + ", " + dim(te->colsName, t.cols)
         : std::to_string(t.rows()) + ", " + std::to_string(t.cols);
  const std::string is = "input '" + v.name + "' has shape [" + shape + "], but " + d.origin;
  if (!d.nested) {
    ctx.error(v.loc, is + " gives it a flat array of " + std::to_string(*d.arrayLength) +
                         " elements: give a two-dimensional array as its rows, [[...], [...]]");
    return;
  }
  if (d.raggedRow) {
    ctx.error(v.loc, is + " gives it ragged rows: row " + std::to_string(*d.raggedRow) +
                         (d.rowLength ? " has another length than row 0 (" +
                                            std::to_string(*d.rowLength) + " elements)"
                                      : " is not an array"));
    return;
  }
  if (int64_t(*d.arrayLength) != t.rows() || int64_t(*d.rowLength) != t.cols)
    ctx.error(v.loc, is + " gives it " + std::to_string(*d.arrayLength) + " rows of " +
                         std::to_string(*d.rowLength) + " elements");
}

// After a callable's signature is resolved: every input fixed by the data gets the range
// [value, value] (checked against a declared range), and every input whose length is a data
// size must get an array of that length from the data.
void fixDataSizes(CheckContext& ctx, CallableDecl& c) {
  for (VarDecl* v : c.inputs) {
    if (v->sizeValue) {
      const double n = double(*v->sizeValue);
      if (v->range && (n < v->range->lo || n > v->range->hi))
        ctx.error(v->loc, "input '" + v->name + "' = " + std::to_string(*v->sizeValue) +
                              " (from the data) is outside its range [" +
                              formatNumber(ConstVal{false, 0, v->range->lo}) + ", " +
                              formatNumber(ConstVal{false, 0, v->range->hi}) + "]");
      v->range = Range{n, n};
    }
    if (v->type.isMatrix() && ctx.sizes) {
      checkMatrixData(ctx, *v);
      continue;
    }
    if (!v->typeExpr || v->typeExpr->lengthName.empty() || !v->type.isArray() || !ctx.sizes)
      continue;
    auto it = ctx.sizes->values.find(v->name);
    if (it == ctx.sizes->values.end() || !it->second.arrayLength) continue;
    if (int64_t(*it->second.arrayLength) != v->type.length)
      ctx.error(v->loc, "input '" + v->name + "' has length " + v->typeExpr->lengthName + " = " +
                            std::to_string(v->type.length) + ", but " + it->second.origin +
                            " gives it " + std::to_string(*it->second.arrayLength) + " elements");
  }
}

} // namespace

void checkDataSizes(CheckContext& ctx) {
  for (CallableDecl* c : ctx.callables)
    fixDataSizes(ctx, *c);
}

} // namespace chassis::spec::check
