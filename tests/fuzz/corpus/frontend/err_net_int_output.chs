// Networks: inputs and outputs are real or real[N], not int.
network N(x: real[2]) -> (y: int) = onnx("net.onnx");
