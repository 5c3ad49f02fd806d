// Network-output properties of the braking policy (examples/braking_policy.onnx, a 2-4-2 ReLU
// network; y[0] is the brake score, y[1] = -y[0]) for verifier/net_props.h: the ones written as
// linear comparisons of one direct network call go to the network engine; the others (an exists,
// a call through a module, an equality, two different calls, a product of outputs) are left to
// the Z3 path. Tested by tests/verifier/network_properties_test.cpp.
network Policy(x: real[2]) -> (y: real[2]) = onnx("../../../examples/braking_policy.onnx");

module NetBrake(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool) {
    let y = Policy([reading, speed]);
    brake = y[0] > y[1];
}

// Holds: on this box y[0] >= 0.4*10 + 0.3*15 - 1 = 7.5 > 0 > y[1].
property net_brakes_close:
    forall r in [0, 5], s in [10, 30]: Policy([r, s]).y[0] > Policy([r, s]).y[1];
// Holds: the same with a constant speed.
property net_brakes_close_20:
    forall r in [0, 5]: Policy([r, 20.0]).y[0] > Policy([r, 20.0]).y[1];
// Holds: a linear combination with a margin (2 y0 - y1 = 3 y0 >= 22.5).
property net_score_close:
    forall r in [0, 5], s in [10, 30]: 2.0 * Policy([r, s]).y[0] - Policy([r, s]).y[1] >= 22.0;
// Violated: far away and fast the network does not brake (reading 100, speed 35: y[0] = -14.5).
property net_always_brakes:
    forall r in [0, 200], s in [0, 40]: Policy([r, s]).y[0] > Policy([r, s]).y[1];
// A disjunction and an implication over outputs.
property net_either:
    forall r in [0, 200], s in [0, 40]:
        Policy([r, s]).y[0] >= 0.0 || Policy([r, s]).y[1] >= 0.0;
property net_implies:
    forall r in [0, 200], s in [0, 40]:
        Policy([r, s]).y[0] <= 0.0 => Policy([r, s]).y[1] >= 0.0;
property net_bounded:
    forall r in [0, 200], s in [0, 40]: Policy([r, s]).y[0] <= 30.0;

// Not network-output properties (nullopt): left to the Z3 path.
property via_module: forall r in [0, 5], s in [10, 30]: NetBrake(r, s).brake;
property an_exists: exists r in [0, 5]: Policy([r, 20.0]).y[0] > 0.0;
property an_equality: forall r in [0, 5], s in [10, 30]: Policy([r, s]).y[0] == 1.0;
property two_calls: forall r in [0, 5], s in [10, 30]: Policy([r, s]).y[0] >= Policy([s, r]).y[0];
property a_product:
    forall r in [0, 5], s in [10, 30]: Policy([r, s]).y[0] * Policy([r, s]).y[1] <= 5.0;
property reads_a_variable: forall r in [0, 5], s in [10, 30]: Policy([r, s]).y[0] >= s;
