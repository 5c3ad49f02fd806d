// NetworkInfo <-> ONNX metadata_props, its description, and the `network` declaration.
#include "tools/network_info.h"

#include "neural/nnet.h"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <set>
#include <sstream>

namespace chassis::tools {

namespace {

using json = nlohmann::json;

/// The shortest text that reads back as the same double.
std::string shortest(double x) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}

/// A number as the .chs language writes it: a literal, with a sign when negative.
std::string chsNumber(double x) {
  std::string s = shortest(x);
  // The language's real literals need digits before an exponent; to_chars gives e.g. "1e+20".
  if (s.find_first_of("e") != std::string::npos && s.find('.') == std::string::npos) {
    auto e = s.find('e');
    s.insert(e, ".0");
  }
  return s;
}

const std::set<std::string>& reservedWords() {
  static const std::set<std::string> words = {
      "import", "enum", "module", "network", "property", "task",      "let",    "var",    "if",
      "then",   "else", "for",    "in",      "observe",  "condition", "factor", "assert", "true",
      "false",  "bool", "int",    "real",    "forall",   "exists",    "always"};
  return words;
}

} // namespace

std::string chsIdentifier(const std::string& s, const std::string& fallback) {
  std::string out;
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    out += std::isalnum(c) || c == '_' ? ch : '_';
  }
  while (out.size() > 1 && out.back() == '_')
    out.pop_back();
  if (out.empty() || out == "_") out = fallback;
  if (std::isdigit(static_cast<unsigned char>(out[0]))) out = "_" + out;
  if (reservedWords().count(out)) out += "_";
  return out;
}

neural::OnnxMetadata toOnnxMetadata(const NetworkInfo& info) {
  neural::OnnxMetadata m;
  if (!info.features.empty()) m.emplace_back("chassis.features", json(info.features).dump());
  if (!info.ranges.empty()) {
    json r = json::array();
    for (const auto& b : info.ranges)
      r.push_back(b ? json::array({b->first, b->second}) : json());
    m.emplace_back("chassis.feature_ranges", r.dump());
  }
  if (!info.rangeSource.empty())
    m.emplace_back("chassis.range_source", json(info.rangeSource).dump());
  if (!info.classes.empty()) m.emplace_back("chassis.classes", json(info.classes).dump());
  if (!info.label.empty()) m.emplace_back("chassis.label", info.label);
  if (!info.taskFile.empty()) m.emplace_back("chassis.task_file", info.taskFile);
  if (!info.taskInputs.empty()) m.emplace_back("chassis.task_inputs", info.taskInputs);
  if (!info.csv.empty()) m.emplace_back("chassis.csv", info.csv);
  for (const auto& kv : info.other)
    m.push_back(kv);
  return m;
}

Expected<NetworkInfo> fromOnnxMetadata(const neural::OnnxMetadata& meta, const std::string& file) {
  NetworkInfo info;
  auto bad = [&](const std::string& key, const std::string& what) {
    return Error(SourceLoc{file, 0, 0}, "ONNX metadata '" + key + "': " + what);
  };
  auto stringList = [&](const std::string& key, const std::string& value,
                        std::vector<std::string>& out) -> Status {
    json j = json::parse(value, nullptr, false);
    if (j.is_discarded() || !j.is_array()) return bad(key, "not a JSON array");
    for (const json& e : j) {
      if (!e.is_string()) return bad(key, "an element is not a string");
      out.push_back(e.get<std::string>());
    }
    return Status::ok();
  };
  for (const auto& [key, value] : meta) {
    if (key == "chassis.features") {
      if (auto s = stringList(key, value, info.features); !s) return s.error();
    } else if (key == "chassis.classes") {
      if (auto s = stringList(key, value, info.classes); !s) return s.error();
    } else if (key == "chassis.range_source") {
      if (auto s = stringList(key, value, info.rangeSource); !s) return s.error();
    } else if (key == "chassis.feature_ranges") {
      json j = json::parse(value, nullptr, false);
      if (j.is_discarded() || !j.is_array()) return bad(key, "not a JSON array");
      for (const json& e : j) {
        if (e.is_null()) {
          info.ranges.emplace_back();
          continue;
        }
        if (!e.is_array() || e.size() != 2 || !e[0].is_number() || !e[1].is_number())
          return bad(key, "an element is neither [lo, hi] nor null");
        const double lo = e[0].get<double>(), hi = e[1].get<double>();
        if (!(lo <= hi)) return bad(key, "a range [lo, hi] with lo > hi");
        info.ranges.emplace_back(std::make_pair(lo, hi));
      }
    } else if (key == "chassis.label") {
      info.label = value;
    } else if (key == "chassis.task_file") {
      info.taskFile = value;
    } else if (key == "chassis.task_inputs") {
      info.taskInputs = value;
    } else if (key == "chassis.csv") {
      info.csv = value;
    } else {
      info.other.emplace_back(key, value);
    }
  }
  if (!info.ranges.empty() && !info.features.empty() && info.ranges.size() != info.features.size())
    return bad("chassis.feature_ranges", std::to_string(info.ranges.size()) + " ranges for " +
                                             std::to_string(info.features.size()) + " features");
  if (!info.rangeSource.empty() && info.rangeSource.size() != info.ranges.size())
    return bad("chassis.range_source", "not one entry per range");
  return info;
}

Expected<NetworkInfo> readNetworkInfo(const std::string& path) {
  if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".nnet") == 0) return NetworkInfo{};
  auto meta = neural::loadOnnxMetadata(path);
  if (!meta) return meta.error();
  return fromOnnxMetadata(*meta, path);
}

std::string describeNetworkInfo(const NetworkInfo& info) {
  std::ostringstream os;
  if (!info.taskFile.empty())
    os << "trained on: task " << info.taskFile
       << (info.taskInputs.empty() ? "" : ", inputs from " + info.taskInputs) << "\n";
  if (!info.csv.empty()) os << "trained on: " << info.csv << "\n";
  if (!info.label.empty()) os << "label: " << info.label << "\n";
  if (!info.features.empty()) {
    os << "features:";
    for (size_t i = 0; i < info.features.size(); ++i) {
      os << (i ? ", " : " ") << info.features[i];
      if (i < info.ranges.size() && info.ranges[i])
        os << " in [" << shortest(info.ranges[i]->first) << ", " << shortest(info.ranges[i]->second)
           << "]"
           << (i < info.rangeSource.size() && info.rangeSource[i] == "samples" ? " (samples)" : "");
    }
    os << "\n";
  }
  if (!info.classes.empty()) {
    os << "classes:";
    for (size_t i = 0; i < info.classes.size(); ++i)
      os << (i ? ", " : " ") << i << " = " << info.classes[i];
    os << "\n";
  }
  for (const auto& [k, v] : info.other)
    os << "metadata " << k << ": " << v << "\n";
  return os.str();
}

Expected<std::string> describeNetworkFile(const std::string& path) {
  const bool nnet = path.size() >= 5 && path.compare(path.size() - 5, 5, ".nnet") == 0;
  auto net = nnet ? neural::loadNNet(path) : neural::loadOnnx(path);
  if (!net) return net.error();
  auto info = readNetworkInfo(path);
  if (!info) return info.error();
  return net->describe() + describeNetworkInfo(*info);
}

std::string networkDeclaration(const NetworkInfo& info, const std::string& name,
                               const std::string& path, int inputSize, int outputSize) {
  std::ostringstream os;
  os << "// " << path << ": ";
  if (!info.taskFile.empty())
    os << "trained on the task " << info.taskFile
       << (info.taskInputs.empty() ? "" : " (inputs from " + info.taskInputs + ")");
  else if (!info.csv.empty())
    os << "trained on " << info.csv;
  else
    os << "a network";
  if (!info.label.empty()) os << ", label " << info.label;
  os << "\n";
  if (!info.classes.empty()) {
    os << "// logits:";
    for (size_t i = 0; i < info.classes.size(); ++i)
      os << (i ? "," : "") << " [" << i << "] " << info.classes[i];
    os << " (the class is the largest)\n";
  }
  bool fromSamples = false;
  for (const std::string& s : info.rangeSource)
    fromSamples |= s == "samples";
  if (fromSamples)
    os << "// ranges marked (samples) are the extent of the training data, not a declared box\n";
  os << "// the path is resolved relative to the directory of the .chs file this is pasted into\n";
  const bool named = int(info.features.size()) == inputSize;
  os << "network " << chsIdentifier(name, "Net") << "(";
  if (named) {
    std::set<std::string> used;
    for (int i = 0; i < inputSize; ++i) {
      std::string id = chsIdentifier(info.features[size_t(i)], "x" + std::to_string(i));
      while (!used.insert(id).second)
        id += "_" + std::to_string(i);
      os << (i ? ", " : "") << id << ": real";
      if (size_t(i) < info.ranges.size() && info.ranges[size_t(i)])
        os << " in [" << chsNumber(info.ranges[size_t(i)]->first) << ", "
           << chsNumber(info.ranges[size_t(i)]->second) << "]";
    }
  } else {
    os << "x: real";
    if (inputSize != 1) os << "[" << inputSize << "]";
  }
  os << ") -> (" << (info.classes.empty() ? "output" : "logits") << ": real";
  if (outputSize != 1 || !info.classes.empty()) os << "[" << outputSize << "]";
  os << ") = onnx(\"";
  for (char ch : path)
    os << (ch == '"' || ch == '\\' ? "\\" : "") << ch;
  os << "\");\n";
  return os.str();
}

} // namespace chassis::tools
