// Ground truth by construction: a piecewise-linear .chs module compiled into an exact ReLU network
// (an AffineNet) together with its ground-truth circuit (the edges the computation uses and what
// each hidden unit computes). In the spirit of Tracr (transformers from RASP programs), for MLPs.
//
// ================================== SEMANTICS ==================================
// Inputs (the network's input columns, in the order and encoding of tasks/task_dataset.cpp):
//   real / int scalar  one column, the value; a declared range [lo, hi] is required (it gives the
//                      interval bounds the big-M constants and the simplifications rest on)
//   bool               one column, 0 or 1
//   enum               one column, the constant's index k in [0, K); inside the network it is
//                      turned into the one-hot vector [x == k] = relu(x-k+1) - 2 relu(x-k) +
//                      relu(x-k-1), exact at every integer x
//   real / int array   one column per element (row-major), each element in the declared range
// Values. Every scalar is an affine combination of units, a unit being an input column or a
// ReLU neuron relu(affine combination of earlier units). Bools are 0/1 values, enums one-hot
// vectors of 0/1 values, arrays lists of their elements, a call a tuple of its outputs.
// Supported: constants; + - neg on numbers; * and / by a constant; sum; dot with a constant
//   array; abs(x) = relu(x) + relu(-x); relu; min(a, b) = a - relu(a - b); max(a, b) =
//   b + relu(a - b); int / and % by a constant on a bounded int (sums of exact integer steps);
//   comparisons < <= > >= (and == != as two of them) between linear expressions; && || ! =>
//   on bools (a && b = relu(a + b - 1), a || b = 1 - relu(1 - a - b), !a = 1 - a);
//   == on bools and enums; select and if/else (both branches are computed; the result is
//   y + c (x - y), and c d for c in {0, 1} is L c + relu(d - L + (U - L)(c - 1)) with [L, U]
//   interval bounds of d = x - y over the input box); let / assign; calls of deterministic
//   modules and of networks (inlined; a network's Affine / VecRelu layers are linear / ReLU);
//   for loops (unrolled, the index a constant); indexing and update at a constant index, and at
//   an int index i in bounds [lo, hi] (a[i] is a chain of selects on [i == k], exact at
//   integers; update(a, i, v) sets element k to [i == k] ? v : a[k]).
//   Anything else (x * y of two variables, exp, log, sqrt, sigmoid, tanh, argmax, division by a
//   variable, sample / observe / condition / factor, assert, random
//   calls) is an Error "compile-net: ... is not piecewise linear" (or says why) located at the
//   statement containing the construct.
// Comparisons with a margin m > 0, t = b - a:
//   a <= b  is step(t) = relu(t/m + 1) - relu(t/m): 1 when t >= 0, 0 when t <= -m
//   a < b   is relu(t/m) - relu(t/m - 1):           1 when t >= m, 0 when t <= 0
//   (>= and > swap the operands; in between the value ramps linearly; a == b on reals is
//   [a <= b] + [b <= a] - 1, two comparisons.) A comparison of two int
//   expressions uses m = 1, which is exact at every integer t (and is not counted as compiled with
//   the margin). A comparison whose outcome the interval bounds decide is a constant. So the
//   network equals the module wherever no counted comparison has t inside its margin band (and
//   every int input is an integer, every enum input an index).
// Bounds. The interval bounds (for big-M constants, for deciding a ReLU or a comparison, for
//   choosing a carry) are bounds of the module's values over the input box, propagated by
//   interval arithmetic and tightened by what the constructions guarantee (a step, and, or, not
//   in [0, 1]; a select between its branches' bounds). They hold for the network's values
//   wherever the network is exact, which is all the big-M argument needs (by induction over the
//   unit DAG). A callee's declared input ranges are not checked: the inlined callee computes its
//   formula wherever it is called.
// Outputs (concatenated in the module's output order; arrays element by element):
//   bool b  two logits [1 - b, b] (decision = argmax, class 1 = true)
//   enum    the one-hot vector as K logits
//   real / int  the value
// Layering. A unit's depth is 0 for an input, 1 + the largest depth of the units its
// pre-activation reads for a ReLU. Hidden layer k holds the units of depth k that the outputs
// need, plus carries of the values needed later: relu(v) when v >= 0 is known from the interval
// bounds, relu(-v) when v <= 0, else the pair relu(v), relu(-v) (v = p - n). The last layer is
// affine without ReLU. Identical units are one unit (hash-consed on their pre-activation).
// Pruning on a finite domain. When every input is integral (int, bool, enum) and the input box has
//   at most kMaxPruneDomain points, the network is run on every point of the domain and each edge
//   whose removal moves no output on any point by more than kPruneTolerance (relative, measured
//   against the unpruned network) is removed, greedily from the output layer down, repeated until
//   nothing more goes; then hidden units with no outgoing edge are dropped. The big-M selects of
//   nested if/else chains read conditions that their enclosing selects make irrelevant on the
//   domain (a select's branch is only used where an outer condition is false), and the 1e-9
//   widening of their bounds leaves 1e-9 edges: without pruning those edges would be part of the
//   construction yet compute nothing on any input. The pruned network equals the unpruned one within
//   kPruneTolerance on every point of the domain, which is where the module's semantics is exact.
// Ground truth: the edges with nonzero weight that lie on some input-to-output path of nonzero
// edges (forward reachable from an input and backward reachable from an output). On a pruned
// network each of them is needed: cutting it alone (zero ablation) changes an output on some
// point of the domain.
// ===============================================================================
#pragma once

#include "neural/affine_net.h"
#include "spec/error.h"
#include "spec/ir.h"

#include <Eigen/Dense>

#include <string>
#include <vector>

namespace chassis::neural {

/// Per layer, the shape of its W (out x in): true where an edge belongs to the circuit.
using EdgeMaskB = Eigen::Matrix<bool, Eigen::Dynamic, Eigen::Dynamic>;

/// The largest finite domain (number of input points) the compiler prunes on.
constexpr long kMaxPruneDomain = 4096;
/// An edge is pruned when removing it moves no output by more than this (relative, 1 + |y|) on
/// any point of the domain: a hundred times the 1e-9 widening of the big-M bounds, which is all
/// that the edges of a select made irrelevant by an enclosing one carry.
constexpr double kPruneTolerance = 1e-7;

struct CompileOptions {
  double margin = 1e-3;      // the comparison band (see the header comment); must be > 0
  bool pruneOnDomain = true; // prune edges unused on a finite domain (see the header comment)
};

struct CompiledNet {
  AffineNet net;
  std::vector<std::string> inputNames, outputNames; // feature columns / output columns
  std::vector<double> inputLo, inputHi;             // the module's input box (per column)
  std::vector<EdgeMaskB> groundTruth; // per layer, W's shape: edges the computation uses
  std::vector<std::vector<std::string>> neuronLabels; // per hidden layer: what each unit computes
  int numComparisons = 0;                             // comparisons compiled with the margin
  long domainPoints = 0; // points of the finite domain pruned on (0: not finite, or not pruned)
  long prunedEdges = 0;  // nonzero edges pruning removed (those into dropped units included)
  long droppedUnits = 0; // hidden units pruning dropped
};

/// Compiles `module` (a deterministic function of `program`) into an exact ReLU network.
Expected<CompiledNet> compileModule(const ir::Program& program, const ir::Function& module,
                                    const CompileOptions& options);

/// Every integer point of the box [lo, hi] (bounds rounded inwards), one per row, the first
/// column varying fastest; an empty matrix when a bound is not finite, the box holds no integer
/// point, or it holds more than maxPoints. The finite domains compile-net prunes on and
/// `compare` enumerates.
Eigen::MatrixXd integerGrid(const Eigen::VectorXd& lo, const Eigen::VectorXd& hi, long maxPoints);

/// Number of edges in the ground truth (true entries over every layer).
long countCircuitEdges(const CompiledNet& c);

} // namespace chassis::neural
