// Networks: a network needs outputs.
network N(x: real[2]) = onnx("net.onnx");
