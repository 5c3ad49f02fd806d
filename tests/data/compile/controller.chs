// compile-net test module: an if/else controller with linear conditions; both outputs change in
// the branches (a real and a bool).
module Ctl(speed: real in [0, 40], dist: real in [0, 100]) -> (accel: real, brake: bool) {
    if dist < 2.0 * speed + 5.0 {
        accel = -3.0 - 0.1 * speed;
        brake = true;
    } else if speed < 25.0 {
        accel = 1.5;
        brake = false;
    } else {
        accel = 0.5 * (30.0 - speed);
        brake = dist - speed < 40.0;
    }
}
