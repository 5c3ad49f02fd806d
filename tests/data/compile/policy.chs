// compile-net test module: a module calling a network (the braking example's policy, an ONNX
// MLP): the network's affine and ReLU layers are inlined into the compiled network.
network Policy(x: real[2]) -> (y: real[2]) = onnx("../../../examples/braking_policy.onnx");

module UsePolicy(d: real in [0, 100], s: real in [0, 30]) -> (score: real) {
    let y = Policy([d, s]).y;
    score = min(5.0, max(-5.0, y[1] - y[0]));
}
