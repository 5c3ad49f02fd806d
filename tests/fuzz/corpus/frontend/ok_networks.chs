// Network declarations in both formats (the files are not loaded by `check`), with scalar and
// array inputs and outputs, and networks called from modules like modules.

network Policy(x: real[2]) -> (y: real[2]) = onnx("braking_policy.onnx");
network Acas(x: real[5]) -> (score: real[5]) = nnet("nets/acas_1_1.nnet");
/// Two scalar inputs, two outputs.
network Small(a: real, b: real) -> (c: real, d: real) = onnx("small.onnx");

module UsePolicy(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool, adv: int) {
    let out = Policy([reading, speed]);
    brake = out[0] > out[1];
    adv = argmax(Acas([reading, speed, 0.0, 0.0, 1.0]));
}

module UseSmall(a: real) -> (c: real) {
    c = Small(a, 1).c + Small(a, 2.0).d;
}
