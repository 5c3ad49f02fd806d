// The model of the WebPPL peer's cancer_enum.wppl: the bnlearn 'cancer' network with the
// evidence Xray = positive and Dyspnoea = true.
// Expected P(Cancer = true | evidence) = 0.10291918630376327, P(evidence) = 0.06610575.
//   chassis infer bench/webppl/cancer.chs Cancer --method exact

enum Pollution { low, medium, high }

module Cancer() -> (cancer: bool) {
    pollution_i ~ Categorical([0.5, 0.4, 0.1]);
    let pollution = if pollution_i == 0 then Pollution.low
                    else if pollution_i == 1 then Pollution.medium else Pollution.high;
    smoker ~ Bernoulli(0.3);
    let pc = if smoker then (if pollution == Pollution.high then 0.05 else 0.03)
             else (if pollution == Pollution.high then 0.02 else 0.001);
    cancer ~ Bernoulli(pc);
    xray ~ Bernoulli(if cancer then 0.9 else 0.2);
    dysp ~ Bernoulli(if cancer then 0.65 else 0.3);
    condition(xray && dysp);
}
