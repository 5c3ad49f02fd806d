// The one place where the VNN-LIB reader's result (spec/vnnlib.h, a file format) becomes the
// network engine's query (problem.h, NetworkQuery): `chassis vnnlib`, the Python binding and
// the tests that write properties as VNN-LIB go through here; .chs properties build their
// query directly from the IR (net_props.cpp).
#pragma once

#include "spec/error.h"
#include "spec/vnnlib.h"
#include "verifier/problem.h"

namespace chassis::verifier {

/// One case: its box and its constraints as the rows of C y <= d (numOutputs columns).
CaseSpec toCaseSpec(const spec::VnnCase& c, int numOutputs);

/// The whole property, the cases in the file's order (a result's caseIndex is theirs); `origin`
/// (the property file) locates the engine's size errors.
NetworkQuery toNetworkQuery(const spec::VnnProperty& p, SourceLoc origin = {});

} // namespace chassis::verifier
