// Networks: the format is onnx or nnet.
network N(x: real) -> (y: real) = tflite("net.tflite");
