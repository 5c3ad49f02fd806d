// Renderers of the `chassis compare` report (see report.h). The document is read once into
// renderer-neutral tables (Table: a title, a header, rows of cells with an optional verdict tone);
// the terminal, Markdown and HTML renderers lay those out, and the HTML one adds the SVG plots.
#include "tasks/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

namespace chassis::tasks {

std::string htmlEscape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s)
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    case '\'':
      out += "&#39;";
      break;
    default:
      out += c;
    }
  return out;
}

namespace {

std::string esc(const std::string& s) { return htmlEscape(s); }

using nlohmann::json;

const std::string kDash = "\xE2\x80\x94"; // an em dash: the value of a missing field
const char* const kArtefacts[] = {"module", "network", "circuit"};

// ---------------------------------------------------------------------------------------------
// Reading the document: every accessor treats a missing, null or mistyped field as absent.

const json* field(const json* j, const char* key) {
  if (!j || !j->is_object()) return nullptr;
  auto it = j->find(key);
  if (it == j->end() || it->is_null()) return nullptr;
  return &*it;
}
const json* field(const json& j, const char* key) {
  return field(&j, key);
}

std::optional<double> number(const json* j) {
  if (!j || !j->is_number()) return std::nullopt;
  return j->get<double>();
}
std::optional<double> number(const json* j, const char* key) {
  return number(field(j, key));
}

std::optional<std::string> text(const json* j) {
  if (!j || !j->is_string()) return std::nullopt;
  return j->get<std::string>();
}
std::optional<std::string> text(const json* j, const char* key) {
  return text(field(j, key));
}

const json* array(const json* j) {
  return j && j->is_array() ? j : nullptr;
}
const json* array(const json* j, const char* key) {
  return array(field(j, key));
}

// ---------------------------------------------------------------------------------------------
// Number formats.

std::string sig(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// A fraction as a percentage with two decimals, one when the second is zero: 99.56%, 97.0%.
std::string percent(double v) {
  if (!std::isfinite(v)) return sig(v, 3);
  std::string s = fixed(v * 100.0, 2);
  if (s.size() > 1 && s.back() == '0') s.pop_back();
  return s + "%";
}

std::string seconds(double v) {
  if (std::isfinite(v) && std::fabs(v) >= 100.0) return fixed(v, 0) + " s";
  return sig(v, 3) + " s";
}

// Counts (edges, neurons, samples) as integers; anything else with 4 significant digits.
std::string count(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) return fixed(v, 0);
  return sig(v, 4);
}

std::string orDash(const std::optional<double>& v, std::string (*format)(double)) {
  return v ? format(*v) : kDash;
}
std::string pct(const std::optional<double>& v) {
  return orDash(v, percent);
}
std::string dev(const std::optional<double>& v) {
  return v ? sig(*v, 3) : kDash;
}
std::string secs(const std::optional<double>& v) {
  return orDash(v, seconds);
}
std::string coord(double v) {
  return sig(v, 6);
}

// A scalar JSON value as text (strings as they are, numbers with 6 significant digits).
std::string scalar(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_number()) return coord(j.get<double>());
  if (j.is_boolean()) return j.get<bool>() ? "true" : "false";
  if (j.is_null()) return kDash;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i)
    out += (i ? sep : "") + parts[i];
  return out;
}

// ---------------------------------------------------------------------------------------------
// The report as tables.

struct Cell {
  std::string text;
  std::string tone; // "holds", "violated", "unknown" or "" (HTML colours verdict cells by it)
  Cell(std::string t = kDash, std::string tn = "") : text(std::move(t)), tone(std::move(tn)) {}
};

struct Table {
  std::string title;
  std::vector<std::string> header; // empty for a key/value table
  std::vector<std::vector<Cell>> rows;
};

struct Reader {
  const json& doc;
  std::vector<std::string> inputNames; // from "inputs", in order

  explicit Reader(const json& d) : doc(d) {
    if (const json* in = array(&doc, "inputs"))
      for (const json& i : *in)
        inputNames.push_back(text(&i, "name").value_or("?"));
  }

  // A point: an array (named by the inputs when the count matches) or an object name -> value
  // (the inputs' names first, in their order, then any others).
  std::string point(const json* p) const {
    if (!p) return kDash;
    std::vector<std::string> parts;
    if (p->is_array()) {
      bool named = p->size() == inputNames.size();
      for (size_t i = 0; i < p->size(); ++i)
        parts.push_back((named ? inputNames[i] + "=" : "") + scalar((*p)[i]));
      return named ? join(parts, ", ") : "(" + join(parts, ", ") + ")";
    }
    if (p->is_object()) {
      std::set<std::string> done;
      for (const std::string& n : inputNames)
        if (p->contains(n) && done.insert(n).second) parts.push_back(n + "=" + scalar((*p)[n]));
      for (auto it = p->begin(); it != p->end(); ++it)
        if (!done.count(it.key())) parts.push_back(it.key() + "=" + scalar(it.value()));
      return join(parts, ", ");
    }
    return scalar(*p);
  }

  std::string pointInParens(const json* p) const {
    std::string s = point(p);
    return s.rfind("(", 0) == 0 ? s : "(" + s + ")";
  }

  std::string title() const {
    std::string t = "chassis compare";
    if (auto task = text(&doc, "task")) t += ": " + *task;
    return t;
  }

  Table summary() const {
    Table t{"Task", {}, {}};
    t.rows.push_back({Cell("file"), Cell(text(&doc, "file").value_or(kDash))});
    t.rows.push_back({Cell("tool"), Cell(text(&doc, "tool").value_or(kDash))});
    std::vector<std::string> ins;
    if (const json* in = array(&doc, "inputs"))
      for (const json& i : *in) {
        auto lo = number(&i, "lo"), hi = number(&i, "hi");
        ins.push_back(text(&i, "name").value_or("?") + " in [" + (lo ? coord(*lo) : kDash) + ", " +
                      (hi ? coord(*hi) : kDash) + "]");
      }
    t.rows.push_back({Cell("inputs"), Cell(ins.empty() ? kDash : join(ins, ", "))});
    std::string label = kDash;
    if (const json* l = field(doc, "label")) {
      label = text(l, "module").value_or(kDash) + "." + text(l, "output").value_or(kDash);
      std::string kind = text(l, "kind").value_or("");
      std::vector<std::string> classes;
      if (const json* cs = array(l, "classes"))
        for (const json& c : *cs)
          classes.push_back(scalar(c));
      if (!kind.empty() || !classes.empty())
        label +=
            " (" + kind + (kind.empty() || classes.empty() ? "" : ": ") + join(classes, ", ") + ")";
    }
    t.rows.push_back({Cell("label"), Cell(label)});
    const json* art = field(doc, "artefacts");
    for (const char* a : kArtefacts) {
      const json* x = field(art, a);
      std::vector<std::string> parts;
      if (auto d = text(x, "description")) parts.push_back(*d);
      if (auto s = text(x, "source")) parts.push_back("from " + *s);
      if (const json* layers = array(x, "layers")) {
        std::vector<std::string> ls;
        for (const json& l : *layers)
          ls.push_back(scalar(l));
        parts.push_back("layers " + join(ls, "-"));
      }
      if (auto m = text(x, "method")) {
        std::string how = *m;
        if (auto ab = text(x, "ablation")) how += ", " + *ab + " ablation";
        if (auto th = number(x, "threshold")) how += ", threshold " + sig(*th, 3);
        parts.push_back(how);
      }
      std::string size = sizeText(x);
      if (size != kDash) parts.push_back(size);
      if (auto w = number(x, "weight_share")) parts.push_back(percent(*w) + " of the weight");
      t.rows.push_back({Cell(a), Cell(parts.empty() ? kDash : join(parts, "; "))});
    }
    return t;
  }

  static std::string sizeText(const json* x) {
    std::vector<std::string> parts;
    if (auto s = number(x, "statements")) parts.push_back(count(*s) + " statements");
    if (auto n = number(x, "neurons")) parts.push_back(count(*n) + " neurons");
    if (auto e = number(x, "edges")) parts.push_back(count(*e) + " edges");
    return parts.empty() ? kDash : join(parts, ", ");
  }

  static std::string verdictOf(const json* v) {
    if (!v) return "";
    if (v->is_string()) return v->get<std::string>();
    return text(v, "verdict").value_or("");
  }

  static std::string toneOf(const std::string& verdict) {
    if (verdict == "holds" || verdict == "violated" || verdict == "unknown") return verdict;
    return "";
  }

  // One property result: "holds, 0.11 s", "unknown (timeout), 30 s".
  static Cell verdictCell(const json* r) {
    std::string v = verdictOf(r);
    if (v.empty()) return Cell();
    std::string s = v;
    if (auto why = text(r, "reason")) s += " (" + *why + ")";
    if (auto t = number(r, "seconds")) s += ", " + seconds(*t);
    return Cell(s, toneOf(v));
  }

  Table main() const {
    Table t{"Comparison", {"", "module", "network", "circuit"}, {}};
    const json* acc = field(doc, "accuracy");
    std::vector<Cell> row{Cell("accuracy")};
    if (auto n = number(acc, "samples")) row[0].text += " (" + count(*n) + " samples)";
    for (const char* a : kArtefacts)
      row.push_back(Cell(pct(number(acc, a))));
    t.rows.push_back(row);
    if (const json* props = array(&doc, "properties"))
      for (const json& p : *props) {
        std::vector<Cell> r{Cell(text(&p, "name").value_or("(unnamed property)"))};
        for (const char* a : kArtefacts)
          r.push_back(verdictCell(field(p, a)));
        t.rows.push_back(r);
      }
    std::vector<Cell> size{Cell("size")};
    for (const char* a : kArtefacts)
      size.push_back(Cell(sizeText(field(field(doc, "artefacts"), a))));
    t.rows.push_back(size);
    return t;
  }

  // "property, artefact: point" for every counterexample.
  std::vector<std::string> counterexamples() const {
    std::vector<std::string> out;
    if (const json* props = array(&doc, "properties"))
      for (const json& p : *props)
        for (const char* a : kArtefacts)
          if (const json* cex = field(field(p, a), "counterexample"))
            out.push_back(text(&p, "name").value_or("(unnamed property)") + ", " + a + ": " +
                          point(cex));
    return out;
  }

  Table faithfulness() const {
    const json* f = field(doc, "faithfulness");
    Table t{"Faithfulness of the circuit to the network", {}, {}};
    auto kv = [&](const std::string& k, Cell v) { t.rows.push_back({Cell(k), std::move(v)}); };
    kv("empirical faithfulness", pct(number(f, "empirical")));
    kv("completeness", pct(number(f, "completeness")));
    kv("decision agreement on samples", pct(number(f, "agreement")));
    kv("certified max |C - N|", dev(number(f, "certified_max_deviation")));
    std::string worst = dev(number(f, "worst_deviation"));
    if (const json* wp = field(f, "worst_point")) worst += " at " + point(wp);
    auto atPair = [&](const json* wp) {
      return " at x = " + pointInParens(field(wp, "x")) +
             ", x_patch = " + pointInParens(field(wp, "x_patch"));
    };
    if (const json* wp = field(f, "worst_pair")) worst += atPair(wp); // resample ablation
    kv("worst |C - N| found", worst);
    const json* da = field(f, "decision_agreement");
    std::string v = verdictOf(da);
    Cell c(v.empty() ? kDash : v, toneOf(v));
    if (const json* p = field(da, "point")) c.text += " at " + point(p);
    if (const json* p = field(da, "pair")) c.text += atPair(p);
    kv("certified decision agreement", c);
    kv("time", secs(number(f, "seconds")));
    return t;
  }

  Table leak() const {
    const json* l = field(doc, "leak");
    Table t{"Leak through the rest of the network", {}, {}};
    auto kv = [&](const std::string& k, Cell v) { t.rows.push_back({Cell(k), std::move(v)}); };
    kv("mean leak on data", dev(number(l, "data_mean")));
    kv("max leak on data", dev(number(l, "data_max")));
    kv("decision flip rate", pct(number(l, "decision_flip_rate")));
    kv("certified max leak", dev(number(l, "certified_max")));
    std::string worst = kDash;
    if (const json* wp = field(l, "worst_pair")) {
      worst = dev(number(wp, "value"));
      if (field(wp, "x") || field(wp, "x_patch"))
        worst += " at x = " + pointInParens(field(wp, "x")) +
                 ", x_patch = " + pointInParens(field(wp, "x_patch"));
    }
    kv("worst pair", worst);
    std::string v = verdictOf(field(l, "decision"));
    kv("certified decision", Cell(v.empty() ? kDash : v, toneOf(v)));
    kv("time", secs(number(l, "seconds")));
    return t;
  }

  Table sweep() const {
    Table t{"Circuit sweep",
            {"method", "ablation", "threshold", "edges", "neurons", "faithful", "complete",
             "max |C-N|", "decision"},
            {}};
    if (const json* s = array(&doc, "sweep"))
      for (const json& e : *s) {
        std::string v = verdictOf(field(e, "decision_agreement"));
        t.rows.push_back(
            {Cell(text(&e, "method").value_or(kDash)), Cell(text(&e, "ablation").value_or(kDash)),
             Cell(dev(number(&e, "threshold"))), Cell(orDash(number(&e, "edges"), count)),
             Cell(orDash(number(&e, "neurons"), count)), Cell(pct(number(&e, "faithfulness"))),
             Cell(pct(number(&e, "completeness"))),
             Cell(dev(number(&e, "certified_max_deviation"))),
             Cell(v.empty() ? kDash : v, toneOf(v))});
      }
    return t;
  }

  Table timings() const {
    Table t{"Timings", {"step", "time"}, {}};
    const json* tm = field(doc, "timings");
    if (!tm || !tm->is_object()) return t;
    const char* order[] = {"data", "train", "extract", "properties", "faithfulness", "leak"};
    std::set<std::string> done;
    double total = 0;
    bool any = false;
    auto add = [&](const std::string& k) {
      auto v = number(tm, k.c_str());
      if (v && std::isfinite(*v)) total += *v, any = true;
      t.rows.push_back({Cell(k), Cell(secs(v))});
      done.insert(k);
    };
    for (const char* k : order)
      if (tm->contains(k)) add(k);
    for (auto it = tm->begin(); it != tm->end(); ++it)
      if (!done.count(it.key())) add(it.key());
    if (any) t.rows.push_back({Cell("total"), Cell(seconds(total))});
    return t;
  }

  std::vector<std::string> notes() const {
    std::vector<std::string> out;
    if (const json* n = array(&doc, "notes"))
      for (const json& s : *n)
        out.push_back(scalar(s));
    return out;
  }
};

// One entry of "regions", checked: decision grids of nx*ny values, absent when missing or of the
// wrong size or with a non-numeric entry.
struct Region {
  std::string x = "x", y = "y";
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  int nx = 0, ny = 0;
  std::string fixed;
  std::optional<std::vector<double>> grid[3]; // module, network, circuit

  static int differ(const std::vector<double>& a, const std::vector<double>& b) {
    int n = 0;
    for (size_t i = 0; i < a.size(); ++i)
      n += a[i] != b[i];
    return n;
  }
};

constexpr long kMaxCells = 1'000'000;

Region readRegion(const json& r) {
  Region g;
  g.x = text(&r, "x").value_or("x");
  g.y = text(&r, "y").value_or("y");
  if (const json* xr = array(&r, "x_range"); xr && xr->size() == 2)
    g.x0 = number(&(*xr)[0]).value_or(0), g.x1 = number(&(*xr)[1]).value_or(1);
  if (const json* yr = array(&r, "y_range"); yr && yr->size() == 2)
    g.y0 = number(&(*yr)[0]).value_or(0), g.y1 = number(&(*yr)[1]).value_or(1);
  auto nx = number(&r, "nx"), ny = number(&r, "ny");
  if (nx && ny && *nx >= 1 && *ny >= 1 && *nx * *ny <= kMaxCells) {
    g.nx = static_cast<int>(*nx);
    g.ny = static_cast<int>(*ny);
  }
  if (const json* f = field(r, "fixed"); f && f->is_object()) {
    std::vector<std::string> parts;
    for (auto it = f->begin(); it != f->end(); ++it)
      parts.push_back(it.key() + "=" + scalar(it.value()));
    g.fixed = join(parts, ", ");
  }
  for (int a = 0; a < 3; ++a) {
    const json* v = array(&r, kArtefacts[a]);
    if (!v || g.nx == 0 || v->size() != static_cast<size_t>(g.nx) * g.ny) continue;
    std::vector<double> cells;
    cells.reserve(v->size());
    for (const json& c : *v) {
      if (c.is_boolean())
        cells.push_back(c.get<bool>() ? 1 : 0);
      else if (c.is_number() && std::isfinite(c.get<double>()))
        cells.push_back(c.get<double>());
      else
        break;
    }
    if (cells.size() == v->size()) g.grid[a] = std::move(cells);
  }
  return g;
}

Table regionsTable(const json& doc) {
  Table t{"Decision regions",
          {"plane", "cells", "network != module", "circuit != module", "circuit != network"},
          {}};
  if (const json* rs = array(&doc, "regions"))
    for (const json& r : *rs) {
      Region g = readRegion(r);
      auto diff = [&](int a, int b) {
        if (!g.grid[a] || !g.grid[b]) return kDash;
        int n = Region::differ(*g.grid[a], *g.grid[b]);
        return std::to_string(n) + " (" + percent(double(n) / g.grid[a]->size()) + ")";
      };
      std::string plane = g.x + " x " + g.y;
      if (!g.fixed.empty()) plane += " (" + g.fixed + ")";
      t.rows.push_back({Cell(plane),
                        Cell(g.nx ? std::to_string(g.nx) + " x " + std::to_string(g.ny) : kDash),
                        Cell(diff(1, 0)), Cell(diff(2, 0)), Cell(diff(2, 1))});
    }
  return t;
}

const char* kHowToRead =
    "The module is the reference program, the network is trained to imitate it, and the circuit "
    "is the part of the network that a discovery method kept. Accuracy is measured against the "
    "module's label on the sampled inputs. A property verdict is \"holds\" when it was proved over "
    "the whole input box, \"violated\" with a counterexample, and \"unknown\" when the prover gave "
    "up (the reason says why). Faithfulness compares the circuit C with the network N: empirical "
    "faithfulness and completeness are measured on samples, the certified max |C - N| bounds the "
    "output difference over the whole box (an upper bound, so the worst deviation found lies "
    "below it), and certified decision agreement says whether C and N decide alike everywhere. "
    "The leak measures how much the network's output moves when the part outside the circuit is "
    "patched from another input x_patch; a leak near 0 means the circuit carries the computation.";

// ---------------------------------------------------------------------------------------------
// Terminal.

size_t width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    n += (c & 0xC0) != 0x80;
  return n;
}

// The first w code points of s, with "~" in place of the last one when s is longer.
std::string fit(const std::string& s, size_t w) {
  if (w == 0) return "";
  if (width(s) <= w) return s + std::string(w - width(s), ' ');
  std::string out;
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80 && ++n > w - 1) break;
    out += s[i];
  }
  return out + "~";
}

constexpr size_t kTermWidth = 100;

// Control characters (newlines, tabs, escapes) as spaces, so a cell stays on its line and no
// terminal escape sequence from the document reaches the terminal.
std::string oneLine(std::string s) {
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return s;
}

// Text broken at spaces into lines of at most `w` code points (w >= 2; a longer word is cut).
std::vector<std::string> wrapLines(const std::string& text, size_t w) {
  w = std::max<size_t>(w, 2);
  std::vector<std::string> lines;
  std::string cur;
  std::istringstream words(oneLine(text));
  std::string word;
  while (words >> word) {
    if (!cur.empty() && width(cur) + 1 + width(word) > w) lines.push_back(cur), cur.clear();
    while (width(word) > w) { // an overlong word, in pieces of w code points
      if (!cur.empty()) lines.push_back(cur), cur.clear();
      std::string head = fit(word, w + 1);
      head.pop_back(); // fit's "~"
      lines.push_back(head);
      word = word.substr(head.size());
    }
    cur += (cur.empty() ? "" : " ") + word;
  }
  if (!cur.empty() || lines.empty()) lines.push_back(cur);
  return lines;
}

// Text wrapped to kTermWidth columns, each line indented.
std::string wrap(const std::string& text, size_t indent) {
  std::string out;
  for (const auto& l : wrapLines(text, kTermWidth - indent))
    out += std::string(indent, ' ') + l + "\n";
  return out;
}

std::string textTable(const Table& t) {
  std::string out = t.title + "\n";
  size_t cols = t.header.size();
  for (const auto& r : t.rows)
    cols = std::max(cols, r.size());
  if (cols == 0) return out + "  " + kDash + "\n";
  std::vector<size_t> w(cols, 0);
  for (size_t c = 0; c < t.header.size(); ++c)
    w[c] = width(t.header[c]);
  for (const auto& r : t.rows)
    for (size_t c = 0; c < r.size(); ++c)
      w[c] = std::max(w[c], width(r[c].text));
  const size_t indent = 2, gap = 2;
  auto total = [&] {
    size_t s = indent + gap * (cols - 1);
    for (size_t x : w)
      s += x;
    return s;
  };
  while (total() > kTermWidth) { // shrink the widest column until the table fits
    auto widest = std::max_element(w.begin(), w.end());
    if (*widest <= 6) break;
    --*widest;
  }
  // A row: the last column's text wraps onto continuation lines, the others are cut to width.
  auto line = [&](const std::vector<std::string>& cells) {
    std::string l(indent, ' ');
    for (size_t c = 0; c + 1 < cols; ++c)
      l += fit(c < cells.size() ? cells[c] : "", w[c]) + std::string(gap, ' ');
    auto last = wrapLines(cols <= cells.size() ? cells[cols - 1] : "", w[cols - 1]);
    std::string out;
    for (size_t i = 0; i < last.size(); ++i) {
      std::string one = (i ? std::string(width(l), ' ') : l) + last[i];
      while (!one.empty() && one.back() == ' ')
        one.pop_back();
      out += one + "\n";
    }
    return out;
  };
  if (!t.header.empty()) {
    out += line(t.header);
    out += std::string(indent, ' ') + std::string(total() - indent, '-') + "\n";
  }
  if (t.rows.empty()) out += std::string(indent, ' ') + kDash + "\n";
  for (const auto& r : t.rows) {
    std::vector<std::string> cells;
    for (const Cell& c : r)
      cells.push_back(oneLine(c.text));
    out += line(cells);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Markdown.

std::string mdCell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|' || c == '<' || c == '>' || c == '*' || c == '`' || c == '\\')
      out += std::string("\\") + c; // a backslash escape: shown as the character itself
    else if (c == '\n' || c == '\r')
      out += ' ';
    else
      out += c;
  }
  return out.empty() ? " " : out;
}

std::string mdTable(const Table& t) {
  std::string out = "## " + t.title + "\n\n";
  size_t cols = std::max<size_t>(t.header.size(), 2);
  for (const auto& r : t.rows)
    cols = std::max(cols, r.size());
  std::vector<std::string> header = t.header;
  if (header.empty()) header = {"", "value"};
  header.resize(cols);
  auto row = [&](const std::vector<std::string>& cells) {
    std::string l = "|";
    for (size_t c = 0; c < cols; ++c)
      l += " " + mdCell(c < cells.size() ? cells[c] : "") + " |";
    return l + "\n";
  };
  out += row(header);
  out += "|";
  for (size_t c = 0; c < cols; ++c)
    out += " --- |";
  out += "\n";
  if (t.rows.empty()) out += row(std::vector<std::string>(cols, kDash));
  for (const auto& r : t.rows) {
    std::vector<std::string> cells;
    for (const Cell& c : r)
      cells.push_back(c.text);
    out += row(cells);
  }
  return out + "\n";
}

// ---------------------------------------------------------------------------------------------
// HTML and SVG.


std::string htmlTable(const Table& t) {
  std::string out = "<h2>" + esc(t.title) + "</h2>\n<table>\n";
  if (!t.header.empty()) {
    out += "<thead><tr>";
    for (const auto& h : t.header)
      out += "<th>" + esc(h) + "</th>";
    out += "</tr></thead>\n";
  }
  out += "<tbody>\n";
  if (t.rows.empty())
    out += "<tr><td colspan=\"" + std::to_string(std::max<size_t>(t.header.size(), 1)) + "\">" +
           kDash + "</td></tr>\n";
  for (const auto& r : t.rows) {
    out += "<tr>";
    for (size_t c = 0; c < r.size(); ++c) {
      const char* tag = c == 0 ? "th" : "td";
      out += std::string("<") + tag + (r[c].tone.empty() ? "" : " class=\"v-" + r[c].tone + "\"") +
             ">" + esc(r[c].text) + "</" + tag + ">";
    }
    out += "</tr>\n";
  }
  return out + "</tbody>\n</table>\n";
}

// SVG coordinates with at most two decimals, trailing zeros dropped.
std::string px(double v) {
  std::string s = fixed(v, 2);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0')
      s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s == "-0" ? "0" : s;
}

// An axis: a data interval mapped onto a pixel interval, linear or log10.
struct Scale {
  double lo = 0, hi = 1;
  double p0 = 0, p1 = 1;
  bool log = false;

  double map(double v) const {
    double a = log ? std::log10(lo) : lo, b = log ? std::log10(hi) : hi;
    double x = log ? std::log10(std::max(v, lo)) : v;
    return p0 + (x - a) / (b - a) * (p1 - p0);
  }

  static double niceStep(double span, int target) {
    double raw = span / target;
    double mag = std::pow(10.0, std::floor(std::log10(raw)));
    double f = raw / mag;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
  }

  std::vector<double> ticks(int target = 5) const {
    std::vector<double> out;
    if (log) {
      for (double e = std::ceil(std::log10(lo) - 1e-9); e <= std::log10(hi) + 1e-9; e += 1)
        out.push_back(std::pow(10.0, e));
      return out;
    }
    double step = niceStep(hi - lo, target);
    for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step)
      out.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
    return out;
  }

  // A scale over data values: log when asked and every value is positive, domain widened to
  // whole decades (log) or to nice steps (linear, with `zero` kept in when asked).
  static Scale over(std::vector<double> vals, bool wantLog, bool zero, double p0, double p1) {
    Scale s;
    s.p0 = p0, s.p1 = p1;
    vals.erase(std::remove_if(vals.begin(), vals.end(), [](double v) { return !std::isfinite(v); }),
               vals.end());
    if (vals.empty()) vals = {0.0, 1.0};
    double lo = *std::min_element(vals.begin(), vals.end());
    double hi = *std::max_element(vals.begin(), vals.end());
    if (wantLog && lo > 0) {
      s.log = true;
      s.lo = std::pow(10.0, std::floor(std::log10(lo)));
      s.hi = std::pow(10.0, std::ceil(std::log10(hi)));
      if (s.hi <= s.lo) s.hi = s.lo * 10;
      return s;
    }
    if (zero) lo = std::min(lo, 0.0), hi = std::max(hi, 0.0);
    if (hi - lo < 1e-12 * std::max(1.0, std::fabs(hi))) {
      double pad = std::fabs(hi) > 0 ? std::fabs(hi) * 0.1 : 1.0;
      lo -= pad, hi += pad;
    }
    double step = niceStep(hi - lo, 5);
    s.lo = std::floor(lo / step + 1e-9) * step;
    s.hi = std::ceil(hi / step - 1e-9) * step;
    return s;
  }
};

// True when the positive values span more than `ratio` (max/min).
bool spans(const std::vector<double>& vals, double ratio) {
  double lo = INFINITY, hi = -INFINITY;
  for (double v : vals) {
    if (!std::isfinite(v)) continue;
    if (v <= 0) return false;
    lo = std::min(lo, v), hi = std::max(hi, v);
  }
  return hi > 0 && lo > 0 && hi / lo > ratio;
}

std::string tickLabel(double v) {
  return sig(v, 3);
}
std::string tickPercent(double v) {
  return sig(v * 100, 3) + "%";
}

struct Svg {
  std::string s;
  Svg(double w, double h, const std::string& label) {
    s = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" width=\"" + px(w) +
        "\" height=\"" + px(h) + "\" viewBox=\"0 0 " + px(w) + " " + px(h) +
        "\" role=\"img\" font-family=\"sans-serif\" font-size=\"12\">\n<title>" + esc(label) +
        "</title>\n";
  }
  void text(double x, double y, const std::string& t, const std::string& extra = "") {
    s += "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\"" + (extra.empty() ? "" : " " + extra) +
         ">" + esc(t) + "</text>\n";
  }
  void line(double x1, double y1, double x2, double y2, const std::string& style) {
    s += "<line x1=\"" + px(x1) + "\" y1=\"" + px(y1) + "\" x2=\"" + px(x2) + "\" y2=\"" + px(y2) +
         "\" " + style + "/>\n";
  }
  void rect(double x, double y, double w, double h, const std::string& style) {
    s += "<rect x=\"" + px(x) + "\" y=\"" + px(y) + "\" width=\"" + px(w) + "\" height=\"" + px(h) +
         "\" " + style + "/>\n";
  }
  std::string done() { return s + "</svg>\n"; }
};

// Ticks, grid and labels of a plot frame [xs.p0, xs.p1] x [ys.p1, ys.p0] (y grows upwards).
void axes(Svg& g, const Scale& xs, const Scale& ys, const std::string& xlabel,
          const std::string& ylabel, std::string (*xfmt)(double), std::string (*yfmt)(double),
          bool grid = true) {
  double left = xs.p0, right = xs.p1, bottom = ys.p0, top = ys.p1;
  for (double t : xs.ticks()) {
    double x = xs.map(t);
    if (grid) g.line(x, top, x, bottom, "stroke=\"#e3e3e3\"");
    g.line(x, bottom, x, bottom + 4, "stroke=\"#333\"");
    g.text(x, bottom + 16, xfmt(t), "text-anchor=\"middle\"");
  }
  for (double t : ys.ticks()) {
    double y = ys.map(t);
    if (grid) g.line(left, y, right, y, "stroke=\"#e3e3e3\"");
    g.line(left - 4, y, left, y, "stroke=\"#333\"");
    g.text(left - 7, y + 4, yfmt(t), "text-anchor=\"end\"");
  }
  g.line(left, bottom, right, bottom, "stroke=\"#333\"");
  g.line(left, bottom, left, top, "stroke=\"#333\"");
  if (!xlabel.empty()) g.text((left + right) / 2, bottom + 34, xlabel, "text-anchor=\"middle\"");
  if (!ylabel.empty()) {
    double cy = (top + bottom) / 2, cx = left - 44;
    g.text(cx, cy, ylabel,
           "text-anchor=\"middle\" transform=\"rotate(-90 " + px(cx) + " " + px(cy) + ")\"");
  }
}

const char* const kArtefactColour[] = {"#4c72b0", "#dd8452", "#55a868"};
const char* const kSeriesColour[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                     "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
const char* const kClassColour[] = {"#c6dbef", "#f16913", "#74c476", "#9e9ac8", "#fdd0a2",
                                    "#6baed6", "#fb6a4a", "#bdbdbd", "#e7ba52", "#843c39"};

// A decision as a colour: a class index from the palette; a non-integral value (a regression
// output) on a grey ramp over [lo, hi].
std::string cellColour(double v, bool categorical, double lo, double hi) {
  if (categorical) {
    long i = static_cast<long>(v);
    return kClassColour[((i % 10) + 10) % 10];
  }
  double t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
  int c = static_cast<int>(std::lround(235 - 200 * t));
  char buf[16];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c, c, std::min(255, c + 20));
  return buf;
}

std::string regionSvg(const Region& g, const std::vector<std::string>& classes) {
  const double panelW = 200, panelH = 150, left = 58, gapW = 67, top = 46;
  const double svgW = left + 3 * panelW + 2 * gapW + 10;
  const double legendY = top + panelH + 62;
  Svg svg(svgW, legendY + 22, "decision regions over " + g.x + " and " + g.y);
  std::string heading = "Decisions over " + g.x + " \xC3\x97 " + g.y; // a multiplication sign
  if (!g.fixed.empty()) heading += " (fixed: " + g.fixed + ")";
  svg.text(left, 16, heading, "font-weight=\"bold\"");

  bool categorical = true;
  double lo = INFINITY, hi = -INFINITY;
  std::set<long> seen;
  for (const auto& grid : g.grid)
    if (grid)
      for (double v : *grid) {
        lo = std::min(lo, v), hi = std::max(hi, v);
        if (v != std::floor(v) || v < 0 || v > 1e6)
          categorical = false;
        else
          seen.insert(static_cast<long>(v));
      }

  for (int a = 0; a < 3; ++a) {
    double x0 = left + a * (panelW + gapW);
    Scale xs;
    xs.lo = g.x0, xs.hi = g.x1 > g.x0 ? g.x1 : g.x0 + 1, xs.p0 = x0, xs.p1 = x0 + panelW;
    Scale ys;
    ys.lo = g.y0, ys.hi = g.y1 > g.y0 ? g.y1 : g.y0 + 1, ys.p0 = top + panelH, ys.p1 = top;
    std::string title = kArtefacts[a];
    if (a > 0 && g.grid[a] && g.grid[0] && categorical) {
      int n = Region::differ(*g.grid[a], *g.grid[0]);
      title += ": " + std::to_string(n) + " cell" + (n == 1 ? "" : "s") + " differ";
    }
    svg.text(x0 + panelW / 2, top - 8, title, "text-anchor=\"middle\"");
    if (!g.grid[a]) {
      svg.rect(x0, top, panelW, panelH, "fill=\"#f4f4f4\" stroke=\"#999\"");
      svg.text(x0 + panelW / 2, top + panelH / 2 + 4, kDash + " not available",
               "text-anchor=\"middle\" fill=\"#666\"");
    } else {
      const auto& cells = *g.grid[a];
      double cw = panelW / g.nx, ch = panelH / g.ny;
      svg.s += "<g shape-rendering=\"crispEdges\">\n";
      for (int iy = 0; iy < g.ny; ++iy)
        for (int ix = 0; ix < g.nx; ++ix) {
          double v = cells[static_cast<size_t>(iy) * g.nx + ix];
          svg.s += "<rect class=\"cell\" x=\"" + px(x0 + ix * cw) + "\" y=\"" +
                   px(top + (g.ny - 1 - iy) * ch) + "\" width=\"" + px(cw + 0.01) + "\" height=\"" +
                   px(ch + 0.01) + "\" fill=\"" + cellColour(v, categorical, lo, hi) + "\"/>\n";
        }
      svg.s += "</g>\n";
      if (a > 0 && g.grid[0] && categorical) {
        // Outline the region of cells that differ from the module: a side of a differing cell is
        // drawn when the cell beyond it does not differ (or lies outside the grid). A white halo
        // under the black line keeps it visible on dark classes.
        auto differs = [&](int ix, int iy) {
          if (ix < 0 || iy < 0 || ix >= g.nx || iy >= g.ny) return false;
          size_t i = static_cast<size_t>(iy) * g.nx + ix;
          return cells[i] != (*g.grid[0])[i];
        };
        std::string d;
        for (int iy = 0; iy < g.ny; ++iy)
          for (int ix = 0; ix < g.nx; ++ix) {
            if (!differs(ix, iy)) continue;
            double left = x0 + ix * cw, right = left + cw;
            double upper = top + (g.ny - 1 - iy) * ch, lower = upper + ch;
            if (!differs(ix, iy + 1)) d += "M" + px(left) + " " + px(upper) + "H" + px(right);
            if (!differs(ix, iy - 1)) d += "M" + px(left) + " " + px(lower) + "H" + px(right);
            if (!differs(ix - 1, iy)) d += "M" + px(left) + " " + px(upper) + "V" + px(lower);
            if (!differs(ix + 1, iy)) d += "M" + px(right) + " " + px(upper) + "V" + px(lower);
          }
        if (!d.empty())
          svg.s +=
              "<path class=\"differ-halo\" d=\"" + d +
              "\" fill=\"none\" stroke=\"#fff\" stroke-width=\"3\" stroke-linecap=\"square\"/>\n"
              "<path class=\"differ\" d=\"" +
              d +
              "\" fill=\"none\" stroke=\"#000\" stroke-width=\"1.5\" stroke-linecap=\"square\"/>\n";
      }
    }
    axes(svg, xs, ys, g.x, a == 0 ? g.y : "", tickLabel, tickLabel, false); // y label once
  }
  // Legend: the classes seen, or the ramp's ends.
  double lx = left;
  if (categorical) {
    for (long c : seen) {
      std::string name =
          c < static_cast<long>(classes.size()) ? classes[c] : "class " + std::to_string(c);
      svg.rect(lx, legendY - 10, 12, 12,
               "fill=\"" + cellColour(c, true, 0, 0) + "\" stroke=\"#666\"");
      svg.text(lx + 17, legendY, name);
      lx += 30 + 7.0 * width(name);
    }
    svg.rect(lx, legendY - 10, 12, 12, "fill=\"none\" stroke=\"#000\" stroke-width=\"1.2\"");
    svg.text(lx + 17, legendY, "differs from the module");
  } else if (lo <= hi) {
    svg.rect(lx, legendY - 10, 12, 12, "fill=\"" + cellColour(lo, false, lo, hi) + "\"");
    svg.text(lx + 17, legendY, sig(lo, 3));
    svg.rect(lx + 90, legendY - 10, 12, 12, "fill=\"" + cellColour(hi, false, lo, hi) + "\"");
    svg.text(lx + 107, legendY, sig(hi, 3));
  }
  return svg.done();
}

struct SweepPoint {
  double edges;
  std::optional<double> faith, complete, deviation;
};

// The sweep grouped into series by method and ablation, each sorted by edges.
std::map<std::string, std::vector<SweepPoint>> sweepSeries(const json& doc) {
  std::map<std::string, std::vector<SweepPoint>> out;
  if (const json* s = array(&doc, "sweep"))
    for (const json& e : *s) {
      auto edges = number(&e, "edges");
      if (!edges || !std::isfinite(*edges)) continue;
      std::string key = text(&e, "method").value_or("?");
      if (auto ab = text(&e, "ablation")) key += " / " + *ab;
      auto finite = [](std::optional<double> v) {
        return v && std::isfinite(*v) ? v : std::nullopt;
      };
      out[key].push_back({*edges, finite(number(&e, "faithfulness")),
                          finite(number(&e, "completeness")),
                          finite(number(&e, "certified_max_deviation"))});
    }
  for (auto& [k, pts] : out)
    std::stable_sort(pts.begin(), pts.end(),
                     [](const SweepPoint& a, const SweepPoint& b) { return a.edges < b.edges; });
  return out;
}

// A line plot of sweep values against edges: each series a coloured line with markers; `second`
// (if any) drawn dashed with square markers.
std::string sweepSvg(const std::map<std::string, std::vector<SweepPoint>>& series,
                     std::optional<double> SweepPoint::*first,
                     std::optional<double> SweepPoint::*second, const std::string& heading,
                     const std::string& ylabel, bool percentAxis, bool allowLog,
                     std::optional<double> chosenEdges) {
  const double W = 800, H = 330, left = 70, right = 210, top = 34, bottom = 52;
  std::vector<double> xv, yv;
  for (const auto& [k, pts] : series)
    for (const auto& p : pts) {
      xv.push_back(p.edges);
      if (p.*first) yv.push_back(*(p.*first));
      if (second && p.*second) yv.push_back(*(p.*second));
    }
  if (chosenEdges) xv.push_back(*chosenEdges);
  Scale xs = Scale::over(xv, spans(xv, 100), false, left, W - right);
  Scale ys = Scale::over(yv, allowLog && spans(yv, 100), false, H - bottom, top);
  if (percentAxis && !ys.log) { // fractions: keep the padded axis inside [0, 1] where they are
    bool inUnit = std::all_of(yv.begin(), yv.end(), [](double v) { return v >= 0 && v <= 1; });
    if (inUnit) ys.lo = std::max(ys.lo, 0.0), ys.hi = std::min(ys.hi, 1.0);
    if (ys.hi <= ys.lo) ys.lo = 0, ys.hi = 1;
  }
  Svg svg(W, H, heading);
  svg.text(left, 18, heading, "font-weight=\"bold\"");
  axes(svg, xs, ys, std::string("circuit edges") + (xs.log ? " (log scale)" : ""),
       ylabel + (ys.log ? " (log scale)" : ""), tickLabel, percentAxis ? tickPercent : tickLabel);
  if (chosenEdges) {
    double x = xs.map(*chosenEdges);
    svg.line(x, top, x, H - bottom, "stroke=\"#888\" stroke-dasharray=\"2 3\"");
    svg.text(x + 3, top + 10, "chosen circuit", "fill=\"#666\" font-size=\"10\"");
  }
  size_t si = 0;
  double ly = top + 6;
  for (const auto& [key, pts] : series) {
    std::string colour = kSeriesColour[si++ % 10];
    for (int pass = 0; pass < (second ? 2 : 1); ++pass) {
      auto member = pass == 0 ? first : second;
      std::string d;
      std::string marks;
      for (const auto& p : pts) {
        if (!(p.*member)) continue;
        double x = xs.map(p.edges), y = ys.map(*(p.*member));
        d += (d.empty() ? "M" : "L") + px(x) + " " + px(y);
        if (pass == 0)
          marks += "<circle cx=\"" + px(x) + "\" cy=\"" + px(y) + "\" r=\"3.5\" fill=\"" + colour +
                   "\"/>\n";
        else
          marks += "<rect x=\"" + px(x - 3) + "\" y=\"" + px(y - 3) +
                   "\" width=\"6\" height=\"6\" fill=\"white\" stroke=\"" + colour + "\"/>\n";
      }
      if (d.empty()) continue;
      svg.s += "<path d=\"" + d + "\" fill=\"none\" stroke=\"" + colour + "\" stroke-width=\"2\"" +
               (pass ? " stroke-dasharray=\"6 4\"" : "") + "/>\n" + marks;
    }
    double lx = W - right + 18;
    svg.line(lx, ly, lx + 22, ly, "stroke=\"" + colour + "\" stroke-width=\"2\"");
    svg.s += "<circle cx=\"" + px(lx + 11) + "\" cy=\"" + px(ly) + "\" r=\"3.5\" fill=\"" + colour +
             "\"/>\n";
    svg.text(lx + 28, ly + 4, key);
    ly += 18;
  }
  bool anySecond = false;
  if (second)
    for (const auto& [key, pts] : series)
      for (const auto& p : pts)
        anySecond = anySecond || (p.*second).has_value();
  if (anySecond) { // the key to the line styles, when both are drawn
    double lx = W - right + 18;
    ly += 6;
    svg.line(lx, ly, lx + 22, ly, "stroke=\"#444\" stroke-width=\"2\"");
    svg.text(lx + 28, ly + 4, "faithfulness");
    ly += 18;
    svg.line(lx, ly, lx + 22, ly, "stroke=\"#444\" stroke-width=\"2\" stroke-dasharray=\"6 4\"");
    svg.text(lx + 28, ly + 4, "completeness");
  }
  return svg.done();
}

bool isTimeout(const json* r) {
  if (!r) return false;
  std::string why = text(r, "reason").value_or("");
  std::transform(why.begin(), why.end(), why.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return why.find("timeout") != std::string::npos || why.find("time out") != std::string::npos ||
         why.find("timed out") != std::string::npos;
}

std::string shorten(const std::string& s, size_t n) {
  return width(s) <= n ? s : fit(s, n);
}

// Proof time per property (a group) and artefact (a bar), horizontal.
std::string proofTimeSvg(const json& doc) {
  const json* props = array(&doc, "properties");
  std::vector<double> times;
  for (const json& p : *props)
    for (const char* a : kArtefacts)
      if (auto t = number(field(p, a), "seconds"); t && std::isfinite(*t)) times.push_back(*t);
  const double W = 800, left = 190, right = 150, top = 50, bar = 13, groupGap = 14;
  double plotH = props->size() * (3 * bar + groupGap);
  const double H = top + plotH + 50;
  bool log = spans(times, 100);
  if (!log) times.push_back(0.0);
  Scale xs = Scale::over(times, log, true, left, W - right);
  Scale ys; // only for the frame: the y axis has no ticks
  ys.p0 = top + plotH, ys.p1 = top;
  Svg svg(W, H, "proof time per property and artefact");
  svg.text(10, 18, "Proof time per property", "font-weight=\"bold\"");
  svg.s += "<defs><pattern id=\"timeout-hatch\" width=\"6\" height=\"6\" "
           "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"6\" "
           "height=\"6\" fill=\"white\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#444\" "
           "stroke-width=\"3\"/></pattern></defs>\n";
  // Legend along the top.
  double lx = left;
  for (int a = 0; a < 3; ++a) {
    svg.rect(lx, 28, 12, 12, std::string("fill=\"") + kArtefactColour[a] + "\"");
    svg.text(lx + 17, 38, kArtefacts[a]);
    lx += 90;
  }
  svg.rect(lx, 28, 12, 12, "fill=\"url(#timeout-hatch)\" stroke=\"#444\"");
  svg.text(lx + 17, 38, "timeout (bar = time spent)");
  for (double t : xs.ticks()) {
    double x = xs.map(t);
    svg.line(x, top, x, top + plotH, "stroke=\"#e3e3e3\"");
    svg.line(x, top + plotH, x, top + plotH + 4, "stroke=\"#333\"");
    svg.text(x, top + plotH + 16, tickLabel(t), "text-anchor=\"middle\"");
  }
  svg.line(left, top + plotH, W - right, top + plotH, "stroke=\"#333\"");
  svg.line(left, top, left, top + plotH, "stroke=\"#333\"");
  svg.text((left + W - right) / 2, top + plotH + 36,
           std::string("proof time, seconds") + (log ? " (log scale)" : ""),
           "text-anchor=\"middle\"");
  double y = top + groupGap / 2;
  for (const json& p : *props) {
    std::string name = text(&p, "name").value_or("(unnamed property)");
    svg.text(left - 8, y + 1.5 * bar + 4, shorten(name, 26), "text-anchor=\"end\"");
    for (int a = 0; a < 3; ++a) {
      const json* r = field(p, kArtefacts[a]);
      auto t = number(r, "seconds");
      std::string verdict = Reader::verdictOf(r);
      double by = y + a * bar;
      if (!t || !std::isfinite(*t)) {
        svg.text(left + 4, by + bar - 3,
                 kArtefacts[a] + std::string(": ") +
                     (verdict.empty() ? kDash : verdict + ", no time"),
                 "font-size=\"10\" fill=\"#666\"");
        continue;
      }
      double x1 = std::max(xs.map(*t), left + 1.0);
      bool timeout = isTimeout(r);
      svg.rect(left, by + 1, x1 - left, bar - 2,
               std::string("fill=\"") + kArtefactColour[a] + "\"");
      if (timeout)
        svg.rect(left, by + 1, x1 - left, bar - 2,
                 "fill=\"url(#timeout-hatch)\" fill-opacity=\"0.55\" stroke=\"#444\"");
      std::string label = (verdict.empty() ? kDash : verdict) + ", " + seconds(*t);
      if (timeout) label += ", timeout";
      svg.text(x1 + 4, by + bar - 3, label, "font-size=\"10\"");
    }
    y += 3 * bar + groupGap;
  }
  return svg.done();
}

const char* kCss =
    R"(body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:860px;margin:24px auto;padding:0 16px;color:#222;line-height:1.4}
h1{font-size:1.6em;margin-bottom:0.2em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:3px}
.meta{color:#666;margin-top:0}
table{border-collapse:collapse;margin:8px 0;font-size:14px}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
thead th{background:#f3f3f3}tbody th{font-weight:normal;background:#fafafa}
td{font-variant-numeric:tabular-nums}
.v-holds{background:#e3f4e1;color:#1d5e20}.v-violated{background:#fbe3e1;color:#8a1c12}.v-unknown{background:#eeeeee;color:#555}
svg.plot{display:block;max-width:100%;height:auto;margin:10px 0}
.missing{color:#666;font-style:italic}
)";

} // namespace

std::string renderTable(const json& report) {
  Reader r(report);
  std::string out = oneLine(r.title()) + "\n\n";
  out += textTable(r.summary()) + "\n";
  out += textTable(r.main());
  auto cex = r.counterexamples();
  for (const auto& c : cex)
    out += wrap("counterexample: " + c, 2);
  out += "\n" + textTable(r.faithfulness()) + "\n" + textTable(r.leak()) + "\n";
  if (array(&report, "sweep")) out += textTable(r.sweep()) + "\n";
  if (array(&report, "regions")) out += textTable(regionsTable(report)) + "\n";
  out += textTable(r.timings());
  auto notes = r.notes();
  if (!notes.empty()) {
    out += "\nNotes\n";
    for (const auto& n : notes)
      out += wrap(n, 2);
  }
  return out;
}

std::string renderMarkdown(const json& report) {
  Reader r(report);
  std::string out = "# " + mdCell(r.title()) + "\n\n";
  out += mdTable(r.summary());
  out += mdTable(r.main());
  auto cex = r.counterexamples();
  if (!cex.empty()) {
    out += "Counterexamples:\n\n";
    for (const auto& c : cex)
      out += "- " + mdCell(c) + "\n";
    out += "\n";
  }
  out += mdTable(r.faithfulness()) + mdTable(r.leak()) + mdTable(r.sweep());
  out += mdTable(regionsTable(report)) + mdTable(r.timings());
  auto notes = r.notes();
  if (!notes.empty()) {
    out += "## Notes\n\n";
    for (const auto& n : notes)
      out += "- " + mdCell(n) + "\n";
    out += "\n";
  }
  out += "## How to read this\n\n" + std::string(kHowToRead) + "\n";
  return out;
}

std::string renderHtml(const json& report) {
  Reader r(report);
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                    "<title>" +
                    esc(r.title()) + "</title>\n<style>\n" + kCss + "</style>\n</head>\n<body>\n";
  out += "<h1>" + esc(r.title()) + "</h1>\n";
  std::vector<std::string> meta;
  if (auto f = text(&report, "file")) meta.push_back(*f);
  if (auto t = text(&report, "tool")) meta.push_back(*t);
  if (!meta.empty()) out += "<p class=\"meta\">" + esc(join(meta, " \xC2\xB7 ")) + "</p>\n";
  out += htmlTable(r.summary());
  out += htmlTable(r.main());
  auto cex = r.counterexamples();
  if (!cex.empty()) {
    out += "<p>Counterexamples:</p>\n<ul>\n";
    for (const auto& c : cex)
      out += "<li>" + esc(c) + "</li>\n";
    out += "</ul>\n";
  }
  if (array(&report, "properties") && !array(&report, "properties")->empty())
    out += "<h3>Proof times</h3>\n" + proofTimeSvg(report);
  out += htmlTable(r.faithfulness()) + htmlTable(r.leak());

  out += "<h2>Decision regions</h2>\n";
  std::vector<std::string> classes;
  if (const json* cs = array(field(report, "label"), "classes"))
    for (const json& c : *cs)
      classes.push_back(scalar(c));
  const json* regions = array(&report, "regions");
  if (!regions || regions->empty())
    out += "<p class=\"missing\">" + kDash + " not computed</p>\n";
  else {
    out += "<p>Each map shows the decision on a grid over two inputs, the others fixed; cells "
           "outlined in black are where the network or the circuit decides differently from the "
           "module.</p>\n";
    for (const json& e : *regions) {
      Region g = readRegion(e);
      out += regionSvg(g, classes);
    }
  }

  Table sweep = r.sweep();
  out += htmlTable(sweep);
  auto series = sweepSeries(report);
  if (!series.empty()) {
    auto chosen = number(field(field(report, "artefacts"), "circuit"), "edges");
    out += sweepSvg(series, &SweepPoint::faith, &SweepPoint::complete,
                    "Faithfulness and completeness against circuit size", "faithfulness", true,
                    false, chosen);
    out += sweepSvg(series, &SweepPoint::deviation, nullptr,
                    "Certified max |C - N| against circuit size", "certified max |C - N|", false,
                    true, chosen);
  }
  out += htmlTable(r.timings());
  auto notes = r.notes();
  if (!notes.empty()) {
    out += "<h2>Notes</h2>\n<ul>\n";
    for (const auto& n : notes)
      out += "<li>" + esc(n) + "</li>\n";
    out += "</ul>\n";
  }
  out += "<h2>How to read this</h2>\n<p>" + esc(kHowToRead) + "</p>\n";

  std::string data = report.dump(1, ' ', false, json::error_handler_t::replace);
  std::string safe;
  for (char c : data) {
    if (c == '<')
      safe += "\\u003c";
    else if (c == '>')
      safe += "\\u003e";
    else if (c == '&')
      safe += "\\u0026";
    else
      safe += c;
  }
  out += "<script type=\"application/json\" id=\"report-data\">\n" + safe + "\n</script>\n";
  out += "</body>\n</html>\n";
  return out;
}

} // namespace chassis::tasks
