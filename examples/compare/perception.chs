// A neurosymbolic task: a network's perception feeds a symbolic decision. A camera sees an
// obstacle as an 8-pixel 1-D image (a tent centred on its distance, in pixels, plus noise); the
// engineered module reads the distance off the image (the centroid) and brakes when it is within
// the stopping distance at the current speed. A network is trained on the same images to take the
// same decision, and the properties are verified end to end through the composition: renderer ->
// (module | network | circuit) -> decision.
//   chassis compare examples/compare/perception.chs

/// An obstacle at distance d (pixels) as an 8-pixel image: a tent of half-width 1.
module Render(d: real in [0, 7]) -> (img: real[8]) {
    for i in 0..8 {
        img[i] = max(0.0, 1.0 - abs(i - d));
    }
}

/// A scene: an obstacle somewhere ahead, a speed, and a noisy camera clipped to [0, 1].
module Scene() -> (img: real[8], speed: real) {
    d ~ Uniform(0.0, 7.0);
    speed ~ Uniform(0.0, 20.0);
    let clean = Render(d).img;
    var noise: real[8];
    for i in 0..8 {
        noise[i] ~ Normal(0.0, 0.03);
        img[i] = min(1.0, max(0.0, clean[i] + noise[i]));
    }
}

/// The engineered decision: the distance is the image's centroid (a tent's pixels sum to 1);
/// brake within 1 + speed / 5 pixels.
module Decide(img: real[8] in [0, 1], speed: real in [0, 20]) -> (brake: bool) {
    var est: real;
    for i in 0..8 {
        est = est + i * img[i];
    }
    brake = est <= 1.0 + speed / 5.0;
}

/// End to end on clean images: an obstacle within 0.9 pixels is braked for at every speed.
property brakes_when_near:
    forall d in [0, 0.9], speed in [0, 20]: Decide(Render(d).img, speed).brake;
/// End to end: a far obstacle at low speed is not braked for.
property no_brake_when_far_and_slow:
    forall d in [5, 7], speed in [0, 5]: !Decide(Render(d).img, speed).brake;

task perception {
    inputs: Scene;
    label: Decide.brake;
    network: train(widths = [16, 16], epochs = 40, seed = 1, samples = 6000, lr = 0.003);
    properties: brakes_when_near, no_brake_when_far_and_slow;
}
