// Duplicate: two networks with one name.
network N(x: real) -> (y: real) = onnx("a.onnx");
network N(x: real) -> (y: real) = nnet("b.nnet");
