// The car of the analogy, side by side with the elephant: the braking controller of
// examples/braking.chs (the engineered module), a network trained to imitate it on its input box,
// and the circuit that circuit discovery extracts from that network.
//   chassis compare examples/compare/braking.chs --html braking.html
// The properties are the controller's own (braking.chs): they are checked as written on the
// module, then with the network and with the circuit standing in for Controller.brake.
import "../braking.chs";

task braking {
    inputs: Controller;
    label: Controller.brake;
    network: train(widths = [16, 16], epochs = 40, seed = 1, samples = 6000, lr = 0.003);
    properties: brakes_when_close, monotone_in_distance;
}
