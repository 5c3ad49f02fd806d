// ACAS Xu properties 3 and 2 in raw (unnormalised) units on the NNet file of network 2_9 (expected:
// property 3 holds, property 2 is violated, as for the ONNX 2_9), whose lowering clamps
// the inputs to the file's input range and folds the normalisation into the first layer
// (neural/lower_network.h); verifier/net_props.h reads the clamp back. Property 3's box is
// inside the clamp range; the second copy widens own-ship speed (input 3) past the file's
// maximum 1200, where the clamp makes the network constant in that input.
network A29(x: real[5]) -> (y: real[5]) = nnet("../acasxu/nnet/ACASXU_experimental_v2a_2_9.nnet");

property prop3_raw_2_9:
    forall rho in [1500, 1800], theta in [-0.06, 0.06], psi in [3.1, 3.141592653589793],
           vown in [980, 1200], vint in [960, 1200]:
        A29([rho, theta, psi, vown, vint]).y[0] > A29([rho, theta, psi, vown, vint]).y[1]
        || A29([rho, theta, psi, vown, vint]).y[0] > A29([rho, theta, psi, vown, vint]).y[2]
        || A29([rho, theta, psi, vown, vint]).y[0] > A29([rho, theta, psi, vown, vint]).y[3]
        || A29([rho, theta, psi, vown, vint]).y[0] > A29([rho, theta, psi, vown, vint]).y[4];

property prop3_raw_2_9_clamped:
    forall rho in [1500, 1800], theta in [-0.06, 0.06], psi in [3.1, 3.141592653589793],
           vown in [980, 1400], vint in [960, 1200]:
        A29([rho, theta, psi, vown, vint]).y[0] > A29([rho, theta, psi, vown, vint]).y[1]
        || A29([rho, theta, psi, vown, vint]).y[0] > A29([rho, theta, psi, vown, vint]).y[2]
        || A29([rho, theta, psi, vown, vint]).y[0] > A29([rho, theta, psi, vown, vint]).y[3]
        || A29([rho, theta, psi, vown, vint]).y[0] > A29([rho, theta, psi, vown, vint]).y[4];

// Property 2 (the clear-of-conflict score is not the maximal one) in raw units on 2_9.
property prop2_raw_2_9:
    forall rho in [55947.691, 60760], theta in [-3.141592653589793, 3.141592653589793],
           psi in [-3.141592653589793, 3.141592653589793], vown in [1145, 1200], vint in [0, 60]:
        A29([rho, theta, psi, vown, vint]).y[0] < A29([rho, theta, psi, vown, vint]).y[1]
        || A29([rho, theta, psi, vown, vint]).y[0] < A29([rho, theta, psi, vown, vint]).y[2]
        || A29([rho, theta, psi, vown, vint]).y[0] < A29([rho, theta, psi, vown, vint]).y[3]
        || A29([rho, theta, psi, vown, vint]).y[0] < A29([rho, theta, psi, vown, vint]).y[4];
