// Properties: a random module called inside forall (its value is not a function of the inputs);
// use always[M], P[M] or E[M]. Today `check` accepts it and only lowering (`run`) rejects it.
module Sensor(d: real) -> (r: real) {
    n ~ Normal(0.0, 1.0);
    r = d + n;
}
property p: forall x in [0, 1]: Sensor(x).r > -100.0;
