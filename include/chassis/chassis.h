// Chassis as a library: the API the `chassis` command is built on, in one include. Installed as
// <prefix>/include/chassis/chassis.h by `cmake --install` (its includes then read
// "chassis/spec/frontend.h" and so on); link chassis::chassis (find_package(chassis)).
// Every entry point reports bad input as a value (Expected<T> / Status, spec/error.h: an Error
// with its file:line:col), never by throwing a Z3, ONNX or JSON exception.
//
//   load and check a .chs file   spec::loadProgram (spec/frontend.h), diagnostics in a
//                                spec::DiagnosticEngine; lower it to the IR with ir::lower
//                                (spec/lower.h), networks loaded by neural::networkLoader()
//   run a module                 symbolic::run (symbolic/interp.h), inputs from
//                                symbolic::parseValue / bindJsonInputs, checked by checkInput
//   infer                        symbolic::inferExact / inferLw / inferMh / inferNuts / inferSmc
//                                (symbolic/infer*.h), summaries in symbolic/summary.h
//   verify a property            verifier::verifyProperty, verifyAsserts,
//                                verifyRangeObligations (verifier/properties.h)
//   networks                     neural::loadOnnx / saveOnnx (neural/onnx.h), loadNNet
//                                (neural/nnet.h), neural::Network::forward (neural/network.h),
//                                neural::train (neural/train.h)
//   verify a VNN-LIB instance    spec::readVnnlib (spec/vnnlib.h), neural::toAffineNet,
//                                verifier::verifyNetwork (verifier/network_verifier.h)
//   compile a module             codegen::JitFunction (codegen/codegen.h)
#pragma once

#include "spec/diagnostics.h"
#include "spec/error.h"
#include "spec/frontend.h"
#include "spec/ir.h"
#include "spec/lower.h"
#include "spec/rng.h"
#include "spec/vnnlib.h"

#include "symbolic/infer.h"
#include "symbolic/infer_exact.h"
#include "symbolic/infer_lw.h"
#include "symbolic/infer_mh.h"
#include "symbolic/infer_nuts.h"
#include "symbolic/infer_smc.h"
#include "symbolic/interp.h"
#include "symbolic/summary.h"

#include "neural/affine_net.h"
#include "neural/dataset.h"
#include "neural/lower_network.h"
#include "neural/network.h"
#include "neural/nnet.h"
#include "neural/onnx.h"
#include "neural/train.h"

#include "verifier/network_verifier.h"
#include "verifier/problem.h"
#include "verifier/properties.h"

#include "codegen/codegen.h"
