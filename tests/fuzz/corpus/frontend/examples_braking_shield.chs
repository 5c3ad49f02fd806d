// A neurosymbolic composition: the learned braking policy (braking_policy.onnx, a 2-4-2 ReLU
// network) wrapped in a symbolic safety shield. The shield brakes when the network says so OR
// when the symbolic Controller of braking.chs says so, so it is never less cautious than the
// controller, which the verifier can prove without looking inside the network; other properties
// ask the verifier about the network itself, and one compares the network with the controller.
//
// The network (see scripts/make-braking-policy.py): h = relu(W1 [reading, speed] + b1),
// y = W2 h + b2; y[0] is the brake score, y[1] = -y[0] the no-brake score.
//   chassis check examples/braking_shield.chs
//   chassis run examples/braking_shield.chs Shield --input reading=2 --input speed=20
//   chassis verify examples/braking_shield.chs
// Expected verdicts (by hand, for the reals):
//   shield_at_least_controller  holds, by construction (brake = net || rule)
//   network_brakes_when_close   holds: on r in [0, 5], s in [10, 30] the brake score is
//                               y[0] >= 0.4*10 + 0.3*15 - 1 = 7.5 > 0
//   network_matches_controller  violated, e.g. reading = 100, speed = 35: the controller brakes
//                               (100 <= 35^2/12 + 5 = 107.1), the network does not
//                               (y[0] = 0.8*25 + 0.4*35 - 0.5*95 - 1 = -14.5): the network is a
//                               stand-in that leaks, not the rule
// Running a module that calls the network needs the ONNX loader wired into lowering (today
// `chassis run` reports "networks cannot be loaded yet" at the call).

network Policy(x: real[2]) -> (y: real[2]) = onnx("braking_policy.onnx");

/// The symbolic rule: brake when the reading is within the stopping distance plus 5 m.
module Controller(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool) {
    let stopping = speed * speed / 12.0;
    brake = reading <= stopping + 5.0;
}

/// The network's decision: brake when its brake score beats its no-brake score.
module NetBrake(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool, margin: real) {
    let y = Policy([reading, speed]);
    margin = y[0] - y[1];
    brake = margin > 0.0;
}

/// The shield: the network's decision, overridden by the controller when the controller brakes.
module Shield(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool, overridden: bool) {
    let net = NetBrake(reading, speed).brake;
    let rule = Controller(reading, speed);
    brake = net || rule;
    overridden = rule && !net;
}

property shield_at_least_controller:
    forall r in [0, 200], s in [0, 40]: Controller(r, s) => Shield(r, s).brake;
property network_brakes_when_close:
    forall r in [0, 5], s in [10, 30]: NetBrake(r, s).brake;
property network_matches_controller:
    forall r in [0, 200], s in [0, 40]: NetBrake(r, s).brake == Controller(r, s);
