#!/usr/bin/python3
"""Writes examples/braking_policy.onnx: the small network `Policy` of examples/braking.chs.

Why: braking.chs declares `network Policy(x: real[2]) -> (y: real[2]) = onnx("braking_policy.onnx")`
and the examples must be runnable from a clone, so the file is generated here, deterministically,
from hand-chosen weights (no training, no randomness): re-running this script gives the same bytes.

The maths. Input x = (reading, speed) in metres and metres per second. One hidden layer of four
ReLUs, then an affine output layer; the graph is MatMul, Add, Relu, MatMul, Add (the shape of the
ACAS Xu networks, so the ONNX importer needs no new operator):

    h = relu(x W1 + b1),  y = h W2 + b2,  W1 in R^{2x4}, W2 in R^{4x2}

    h0 = relu(speed - 10)        (speed above 10 m/s)
    h1 = relu(speed)             (speed)
    h2 = relu(reading - 5)       (distance beyond the 5 m margin)
    h3 = relu(20 - reading)      (closeness, saturating at 20 m)

    y0 = brake score    = 0.8 h0 + 0.4 h1 - 0.5 h2 + 0.3 h3 - 1
    y1 = no-brake score = -y0

so y0 > y1 roughly when reading - 5 < stopping distance: a piecewise-linear stand-in for the
Controller's rule reading <= speed^2/12 + 5. Shapes: input "x" [1, 2], output "y" [1, 2], float32.

Needs python3 with the `onnx` module (Debian: apt-get install python3-onnx).
Usage: scripts/make-braking-policy.py [OUT]   (default: examples/braking_policy.onnx)
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

W1 = np.array([[0.0, 0.0, 1.0, -1.0],   # reading
               [1.0, 1.0, 0.0, 0.0]],   # speed
              dtype=np.float32)
B1 = np.array([-10.0, 0.0, -5.0, 20.0], dtype=np.float32)
W2 = np.array([[0.8, -0.8],
               [0.4, -0.4],
               [-0.5, 0.5],
               [0.3, -0.3]], dtype=np.float32)
B2 = np.array([-1.0, 1.0], dtype=np.float32)


def build():
    inits = [numpy_helper.from_array(W1, "W1"), numpy_helper.from_array(B1, "B1"),
             numpy_helper.from_array(W2, "W2"), numpy_helper.from_array(B2, "B2")]
    nodes = [
        helper.make_node("MatMul", ["x", "W1"], ["z1"], name="dense1_matmul"),
        helper.make_node("Add", ["z1", "B1"], ["a1"], name="dense1_add"),
        helper.make_node("Relu", ["a1"], ["h"], name="relu1"),
        helper.make_node("MatMul", ["h", "W2"], ["z2"], name="dense2_matmul"),
        helper.make_node("Add", ["z2", "B2"], ["y"], name="dense2_add"),
    ]
    graph = helper.make_graph(
        nodes, "braking_policy",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])],
        initializer=inits)
    model = helper.make_model(graph, producer_name="chassis-make-braking-policy",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def forward(x):
    """The network in numpy, for the self-check below."""
    h = np.maximum(x @ W1 + B1, 0.0)
    return h @ W2 + B2


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "examples", "braking_policy.onnx")
    model = build()
    # Self-check: close and fast -> brake; far and slow -> do not brake.
    assert forward(np.array([2.0, 20.0], dtype=np.float32))[0] > 0
    assert forward(np.array([150.0, 5.0], dtype=np.float32))[0] < 0
    with open(out, "wb") as f:
        f.write(model.SerializeToString())
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
