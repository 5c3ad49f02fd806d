module M(v: real[1000000]) -> (y: real[1000000]) {
  y = exp(v);
}
