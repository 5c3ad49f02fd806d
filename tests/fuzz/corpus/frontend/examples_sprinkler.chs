// The classic sprinkler Bayesian network (Russell & Norvig; Murphy's BNT example), with the
// evidence "the grass is wet". Four boolean variables:
//
//   Cloudy -> Sprinkler, Cloudy -> Rain, (Sprinkler, Rain) -> WetGrass
//
//   P(C) = 0.5
//   P(S | C) = 0.1,  P(S | !C) = 0.5
//   P(R | C) = 0.8,  P(R | !C) = 0.2
//   P(W | S, R) = 0.99,  P(W | S, !R) = 0.9,  P(W | !S, R) = 0.9,  P(W | !S, !R) = 0.0
//
// Observing W = true weights each trace by P(W = true | S, R). Exact posteriors given W:
//   P(W) = 0.6471, P(R | W) = 0.7079, P(S | W) = 0.4298, P(C | W) = 0.5758,
// and P(R | W, !S) = 1 (with the sprinkler off, only rain wets the grass).
//   chassis run examples/sprinkler.chs WetGrass --seed 1
//   chassis infer examples/sprinkler.chs WetGrass
//   chassis verify examples/sprinkler.chs

/// The network's prior: draws every variable from its conditional distribution.
module Prior() -> (cloudy: bool, sprinkler: bool, rain: bool, wet: bool) {
    cloudy ~ Bernoulli(0.5);
    sprinkler ~ Bernoulli(if cloudy then 0.1 else 0.5);
    rain ~ Bernoulli(if cloudy then 0.8 else 0.2);
    wet ~ Bernoulli(WetProbability(sprinkler, rain));
}

/// P(WetGrass = true | Sprinkler, Rain): the CPT of WetGrass as a deterministic module.
module WetProbability(sprinkler: bool, rain: bool) -> (p: real) {
    if sprinkler && rain {
        p = 0.99;
    } else if sprinkler || rain {
        p = 0.9;
    } else {
        p = 0.0;
    }
}

/// The query: the hidden variables given the evidence WetGrass = true.
module WetGrass() -> (cloudy: bool, sprinkler: bool, rain: bool) {
    cloudy ~ Bernoulli(0.5);
    sprinkler ~ Bernoulli(if cloudy then 0.1 else 0.5);
    rain ~ Bernoulli(if cloudy then 0.8 else 0.2);
    observe(Bernoulli(WetProbability(sprinkler, rain)), true);
}

/// The prior probability of wet grass is 0.6471.
property wet_prior: P[Prior](wet) >= 0.64;
/// Rain explains wet grass more often than not: P(R | W) = 0.7079.
property rain_explains: P[WetGrass](rain) >= 0.7;
/// Explaining away: with the sprinkler off, the grass is wet only because of rain.
property explaining_away: P[WetGrass](rain | !sprinkler) >= 0.99;
/// The posterior of Sprinkler, 0.4298, stays below one half.
property sprinkler_posterior: P[WetGrass](sprinkler) <= 0.5;
/// Whatever is drawn, the grass cannot be wet with neither sprinkler nor rain.
property no_cause_no_wet: always[Prior](sprinkler || rain || !wet);
