// kidiq (Gelman & Hill 2007, ch. 3), as posteriordb's kidiq-kidscore_momiq: a linear regression
// of N = 434 children's test scores on their mothers' IQ,
//
//   kid_score[i] ~ Normal(beta[0] + beta[1] * mom_iq[i], sigma),   sigma ~ HalfCauchy(2.5),
//
// with flat (improper) priors on beta in the original. The language has no improper prior (every
// choice `x ~ D` draws from a proper distribution), so beta gets Normal(0, 10000): its log
// density changes by under 1e-5 over the whole region the posterior occupies (beta[0] = 26 +- 6,
// beta[1] = 0.61 +- 0.06), so the posterior is the flat-prior one to far below Monte Carlo error
// (the prior moves the posterior mean of beta[0] by about sd_post^2 / sd_prior^2 * 26 ~ 1e-5).
// A wide Uniform would do as well but puts beta through a scaled-logit transform, which makes the
// start of HMC far worse conditioned; a Normal keeps beta unconstrained, as in Stan.
// Reference posterior (posteriordb, 10 chains of NUTS): beta 25.92 (sd 5.97), 0.6086 (sd 0.059),
// sigma 18.28 (sd 0.62).
//   chassis infer examples/kidiq.chs KidIQ --data examples/kidiq.data.json --method nuts

/// The regression; kid_score and mom_iq are bound from the data file by name.
module KidIQ(kid_score: real[434], mom_iq: real[434]) -> (beta: real[2], sigma: real) {
    for k in 0..2 {
        beta[k] ~ Normal(0.0, 10000.0);
    }
    sigma ~ HalfCauchy(2.5);
    for i in 0..434 {
        observe(Normal(beta[0] + beta[1] * mom_iq[i], sigma), kid_score[i]);
    }
}
