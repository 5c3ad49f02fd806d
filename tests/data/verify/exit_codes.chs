// One property per outcome, for the exit codes of `chassis verify` (0 all hold, 1 some violated,
// 3 some unknown and none violated): `bounded` holds, `tight` is violated (x = 10 gives 20 > 19),
// `alternating` is unknown (alternating quantifier prefixes are not supported).
module Double(x: real in [0, 10]) -> (y: real) {
    y = x * 2.0;
}

property bounded: forall x in [0, 10]: Double(x).y <= 20.0;
property tight: forall x in [0, 10]: Double(x).y <= 19.0;
property alternating: forall x in [0, 10]: exists z in [0, 30]: Double(x).y <= z;
