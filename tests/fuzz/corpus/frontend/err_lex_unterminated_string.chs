// Lexical: a string that never ends (runs to the end of the line).
network N(x: real) -> (y: real) = onnx("net.onnx);
