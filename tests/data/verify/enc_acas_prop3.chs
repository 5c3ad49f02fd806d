// ACAS Xu property 3 (tests/data/vnnlib/prop_3.vnnlib) written in .chs for verifier/net_props.h:
// in the normalised box of a head-on, slow encounter, "clear of conflict" (output 0) must not be
// the minimal score, i.e. some other advisory scores lower. Expected (../shared/bench/acasxu/
// expected.csv): holds on network 1_2, violated on network 1_7.
network N12(x: real[5]) -> (y: real[5]) = onnx("../acasxu/ACASXU_run2a_1_2_batch_2000.onnx");
network N17(x: real[5]) -> (y: real[5]) = onnx("../acasxu/ACASXU_run2a_1_7_batch_2000.onnx");

property prop3_1_2:
    forall a in [-0.303531156, -0.298552812], b in [-0.009549297, 0.009549297],
           c in [0.493380324, 0.5], d in [0.3, 0.5], e in [0.3, 0.5]:
        N12([a, b, c, d, e]).y[0] > N12([a, b, c, d, e]).y[1]
        || N12([a, b, c, d, e]).y[0] > N12([a, b, c, d, e]).y[2]
        || N12([a, b, c, d, e]).y[0] > N12([a, b, c, d, e]).y[3]
        || N12([a, b, c, d, e]).y[0] > N12([a, b, c, d, e]).y[4];

property prop3_1_7:
    forall a in [-0.303531156, -0.298552812], b in [-0.009549297, 0.009549297],
           c in [0.493380324, 0.5], d in [0.3, 0.5], e in [0.3, 0.5]:
        !(N17([a, b, c, d, e]).y[0] <= N17([a, b, c, d, e]).y[1]
          && N17([a, b, c, d, e]).y[0] <= N17([a, b, c, d, e]).y[2]
          && N17([a, b, c, d, e]).y[0] <= N17([a, b, c, d, e]).y[3]
          && N17([a, b, c, d, e]).y[0] <= N17([a, b, c, d, e]).y[4]);

// A corner of property 3's box (so it holds on 1_2 too), small enough for a quick proof.
property prop3_1_2_corner:
    forall a in [-0.303531156, -0.302], b in [-0.009549297, -0.005],
           c in [0.493380324, 0.495], d in [0.3, 0.35], e in [0.3, 0.35]:
        N12([a, b, c, d, e]).y[0] > N12([a, b, c, d, e]).y[1]
        || N12([a, b, c, d, e]).y[0] > N12([a, b, c, d, e]).y[2]
        || N12([a, b, c, d, e]).y[0] > N12([a, b, c, d, e]).y[3]
        || N12([a, b, c, d, e]).y[0] > N12([a, b, c, d, e]).y[4];
