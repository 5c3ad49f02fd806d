// Eight schools (Rubin 1981; Gelman et al., BDA 5.5) in the NON-CENTRED parameterisation, as in
// posteriordb's eight_schools-eight_schools_noncentered. J = 8 schools report an estimated
// coaching effect y[j] with standard error sigma[j]; the true effects theta[j] share a
// population mean mu and spread tau:
//
//   mu ~ Normal(0, 5),  tau ~ HalfCauchy(5),  theta_trans[j] ~ Normal(0, 1)
//   theta[j] = mu + tau * theta_trans[j],     y[j] ~ Normal(theta[j], sigma[j])
//
// Drawing theta_trans and scaling it by tau (instead of drawing theta[j] ~ Normal(mu, tau)) removes
// the funnel-shaped dependence between tau and theta that makes the centred form hard for MCMC.
// Reference posterior means (posteriordb, 10 chains of NUTS): mu 4.41, tau 3.60,
// theta 6.15 4.94 3.91 4.80 3.61 4.05 6.32 4.88.
//   chassis run examples/eight_schools.chs EightSchools --data examples/eight_schools.data.json --seed 1
//   chassis infer examples/eight_schools.chs EightSchools --data examples/eight_schools.data.json

/// The non-centred hierarchical model; y and sigma are bound from the data file by name.
module EightSchools(y: real[8], sigma: real[8]) -> (mu: real, tau: real, theta: real[8]) {
    mu ~ Normal(0.0, 5.0);
    tau ~ HalfCauchy(5.0);
    var theta_trans: real[8];
    for j in 0..8 {
        theta_trans[j] ~ Normal(0.0, 1.0);
        let effect = mu + tau * theta_trans[j];
        theta[j] = effect;
        observe(Normal(effect, sigma[j]), y[j]);
    }
}
