// Lexical: a newline inside a string.
network N(x: real) -> (y: real) = onnx("net
.onnx");
