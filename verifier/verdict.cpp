// The verdict's names (see verdict.h).
#include "verifier/verdict.h"

namespace chassis::verifier {

std::string_view verdictName(Verdict v) {
  switch (v) {
  case Verdict::Holds:
    return "holds";
  case Verdict::Violated:
    return "violated";
  case Verdict::Timeout:
    return "timeout";
  case Verdict::Unknown:
    return "unknown";
  case Verdict::Internal:
    return "internal error";
  }
  return "?";
}

const char* vnncompName(Verdict v) {
  switch (v) {
  case Verdict::Holds:
    return "unsat";
  case Verdict::Violated:
    return "sat";
  case Verdict::Timeout:
    return "timeout";
  case Verdict::Unknown:
  case Verdict::Internal:
    return "unknown";
  }
  return "unknown";
}

} // namespace chassis::verifier
