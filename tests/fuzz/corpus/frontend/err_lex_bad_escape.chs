// Lexical: an unknown escape in a string.
network N(x: real) -> (y: real) = onnx("net\q.onnx");
