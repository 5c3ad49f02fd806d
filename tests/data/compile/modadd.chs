// compile-net test module: addition modulo p = 5, inputs and output one-hot (an enum Z5 is one
// input column holding the constant's index; the output is the one-hot vector of 5 logits).
enum Z5 { Z0, Z1, Z2, Z3, Z4 }

module Val5(a: Z5) -> (v: int) {
    v = if a == Z5.Z1 then 1 else (if a == Z5.Z2 then 2 else (if a == Z5.Z3 then 3
        else (if a == Z5.Z4 then 4 else 0)));
}

module ModAdd(a: Z5, b: Z5) -> (c: Z5) {
    let s = (Val5(a).v + Val5(b).v) % 5;
    c = if s == 0 then Z5.Z0 else (if s == 1 then Z5.Z1 else (if s == 2 then Z5.Z2
        else (if s == 3 then Z5.Z3 else Z5.Z4)));
}
