// The model of the WebPPL peer's gauss_lw.wppl and gauss_mh.wppl (../shared/peers/webppl):
// mu ~ Normal(0, 5), y_i ~ Normal(mu, 1), y = [1.2, 0.8, 1.5].
// Exact: posterior mean 3.5/3.04 = 1.1513157894736843, sd sqrt(1/3.04) = 0.5735393346764044,
// log evidence -5.0724.
//   chassis infer bench/webppl/gauss.chs Gauss --method lw --samples 100000
//   chassis infer bench/webppl/gauss.chs Gauss --method mh --chains 1 --samples 100000 --warmup 1000

module Gauss() -> (mu: real) {
    mu ~ Normal(0.0, 5.0);
    let ys = [1.2, 0.8, 1.5];
    for i in 0..3 {
        observe(Normal(mu, 1.0), ys[i]);
    }
}
