// A composition: the braking policy network feeding a symbolic comparison with the controller.
// `agree` (the network's argmax is 1 exactly when the controller brakes) is refuted with a
// replayed point; `net_bounded` (an output bound of the network) is proved.
module Controller(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool) {
    let stopping = speed * speed / 12.0;
    brake = reading <= stopping + 5.0;
}
network Policy(x: real[2]) -> (y: real[2]) = onnx("../../../examples/braking_policy.onnx");
property agree: forall r in [0, 200], s in [0, 40]: (argmax(Policy([r, s]).y) == 1) == Controller(r, s).brake;
property net_bounded: forall r in [0, 200], s in [0, 40]: Policy([r, s]).y[0] <= 1000.0;
