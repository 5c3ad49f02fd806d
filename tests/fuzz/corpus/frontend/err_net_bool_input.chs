// Networks: inputs and outputs are real or real[N].
network N(x: bool) -> (y: real) = onnx("net.onnx");
