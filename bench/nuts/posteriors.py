"""The reference posteriors that bench/nuts/vs_stan and bench/nuts/make_reference run: per model
the chassis program (examples/), its module, the data (tests/data/posteriordb/<name>/data.json),
the same model in Stan (bench/nuts/stan/) and the parameters compared (posteriordb's names,
1-based; chassis' names are 0-based). Also the data's translation to an R list for rstan."""
import json, os

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.abspath(os.path.join(here, "..", ".."))


def _idx(name, n):
    return [f"{name}[{i}]" for i in range(1, n + 1)]


def _idx2(name, n, k):
    """A matrix's elements row by row, as Stan names them: name[1,1], name[1,2], ..."""
    return [f"{name}[{i},{j}]" for i in range(1, n + 1) for j in range(1, k + 1)]


# name: posteriordb-style data-model name (the data of the *_simulated ones is simulated by
# bench/nuts/simulate_data: posteriordb's own is not available offline).
MODELS = [
    dict(name="eight_schools-eight_schools_noncentered", title="eight schools (non-centred)",
         chs="examples/eight_schools_stan.chs", module="EightSchools",
         stan="eight_schools_noncentered.stan",
         pars=["mu", "tau"] + _idx("theta", 8), query="mu,tau,theta"),
    dict(name="kidiq-kidscore_momiq", title="kidiq (linear regression)",
         chs="examples/kidiq_stan.chs", module="KidIQ", stan="kidscore_momiq.stan",
         pars=_idx("beta", 2) + ["sigma"], query="beta,sigma"),
    dict(name="ar5_simulated-arK", title="AR(5)", chs="examples/ar_k.chs", module="ArK",
         stan="arK.stan", pars=["alpha"] + _idx("beta", 5) + ["sigma"],
         query="alpha,beta,sigma"),
    dict(name="garch11_simulated-garch11", title="GARCH(1,1)", chs="examples/garch11.chs",
         module="Garch11", stan="garch11.stan", pars=["mu", "alpha0", "alpha1", "beta1"],
         query="mu,alpha0,alpha1,beta1"),
    dict(name="wells_simulated-wells_dist100", title="wells (logistic regression)",
         chs="examples/wells_logistic.chs", module="WellsDist100", stan="wells_dist100.stan",
         pars=_idx("beta", 2), query="beta"),
    dict(name="hmm_simulated-hmm_example", title="HMM (3 states)",
         chs="examples/hmm.chs", module="Hmm", stan="hmm_example.stan",
         pars=_idx2("theta", 3, 3) + _idx("mu", 3), query="theta,mu"),
]


def data_path(m):
    return os.path.join(root, "tests", "data", "posteriordb", m["name"], "data.json")


def stan_path(m):
    return os.path.join(here, "stan", m["stan"])


def load_data(m):
    with open(data_path(m)) as f:
        return json.load(f)


def r_list(data):
    """The data as an R expression for rstan: ints as integers, booleans as 0/1 integers."""
    def scalar(v):
        if isinstance(v, bool):
            return "1L" if v else "0L"
        if isinstance(v, int):
            return f"{v}L"
        return repr(float(v))

    parts = []
    for k, v in data.items():
        if isinstance(v, list):
            parts.append(f"{k} = array(c({', '.join(scalar(x) for x in v)}))")
        else:
            parts.append(f"{k} = {scalar(v)}")
    return "list(" + ", ".join(parts) + ")"


def zero_based(ref):
    """'theta[3]' (1-based, Stan's and posteriordb's names) -> 'theta[2]' (0-based, chassis');
    a matrix element 'theta[1,3]' -> 'theta[0][2]'."""
    if "[" not in ref:
        return ref
    base, idx = ref[:-1].split("[")
    return base + "".join(f"[{int(i) - 1}]" for i in idx.split(","))
