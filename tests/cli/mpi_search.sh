#!/usr/bin/env bash
# `mpirun -np N chassis vnnlib NET PROP`: the ranks share one instance's branch and bound
# (tools/mpi_search.h). Under --oversubscribe -np 2 and -np 3 the verdict is the one-process
# verdict on instances of the ACAS Xu fast subset (tests/verifier/verifier_acasxu_test.cpp: two
# that hold, one violated) and on a random NNet network (generated here with a fixed seed; its two
# properties put the output bound below and above the sampled maximum: both verdicts occur,
# checked); a violated run prints a counterexample that `chassis` replayed;
# --record-tree writes every rank's domains (ids unique, parents known, several ranks at work on
# an instance that splits). Skipped (exit 77) when mpirun is absent or chassis has no MPI built in.
# Usage: mpi_search.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
src=$2
source "$(dirname "$0")/expect.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
if ! command -v mpirun >/dev/null; then echo "SKIP: mpirun not found (Debian: openmpi-bin)"; exit 77; fi
if ! "$chassis" --version | grep -q '(MPI:'; then echo "SKIP: chassis built without MPI"; exit 77; fi
mpi=(timeout 120 mpirun --oversubscribe)
A=$src/tests/data/acasxu
P=$src/tests/data/vnnlib

# Random ReLU networks (4 inputs, 2 x 16 ReLUs, 2 outputs) and the property Y_0 >= c on [-1,1]^4.
python3 - "$tmp" <<'PY'
import random, sys
out = sys.argv[1]
rng = random.Random(7)
def relu(v): return [max(0.0, x) for x in v]
for k in range(1):
    sizes = [4, 16, 16, 2]
    W = [[[rng.gauss(0, 1 / len(range(sizes[l])) ** 0.5) for _ in range(sizes[l])] for _ in range(sizes[l + 1])] for l in range(3)]
    b = [[rng.gauss(0, 0.1) for _ in range(sizes[l + 1])] for l in range(3)]
    def f(x):
        for l in range(3):
            x = [sum(w * xi for w, xi in zip(row, x)) + bb for row, bb in zip(W[l], b[l])]
            if l < 2: x = relu(x)
        return x
    ys = [f([rng.uniform(-1, 1) for _ in range(4)])[0] for _ in range(4000)]
    hi, lo = max(ys), min(ys)
    with open(f"{out}/rand{k}.nnet", "w") as n:
        n.write("// random test network\n3,4,2,16,\n4,16,16,2,\n0,\n")
        n.write("-1,-1,-1,-1,\n1,1,1,1,\n0,0,0,0,0,\n1,1,1,1,1,\n")
        for l in range(3):
            for row in W[l]: n.write(",".join(repr(w) for w in row) + ",\n")
            for bb in b[l]: n.write(repr(bb) + ",\n")
    for name, c in (("low", hi - 0.05 * (hi - lo)), ("high", hi + 0.3 * (hi - lo))):
        with open(f"{out}/rand{k}_{name}.vnnlib", "w") as p:
            for i in range(4): p.write(f"(declare-const X_{i} Real)\n")
            for i in range(2): p.write(f"(declare-const Y_{i} Real)\n")
            for i in range(4): p.write(f"(assert (>= X_{i} -1))\n(assert (<= X_{i} 1))\n")
            p.write(f"(assert (>= Y_0 {c!r}))\n")
PY

cases=("$A/ACASXU_run2a_1_1_batch_2000.onnx $P/prop_1.vnnlib"
  "$A/ACASXU_run2a_1_2_batch_2000.onnx $P/prop_3.vnnlib"
  "$A/ACASXU_run2a_2_1_batch_2000.onnx $P/prop_2.vnnlib")
for k in 0; do cases+=("$tmp/rand$k.nnet $tmp/rand${k}_low.vnnlib" "$tmp/rand$k.nnet $tmp/rand${k}_high.vnnlib"); done
seen=""
for c in "${cases[@]}"; do
  read -r net prop <<<"$c"
  "$chassis" vnnlib "$net" "$prop" --timeout 30 >"$tmp/one" 2>"$tmp/one.err"
  one=$(head -1 "$tmp/one")
  case $one in unsat | sat) seen="$seen $one" ;; *) fail "one process $(basename "$net") $(basename "$prop"): $one $(cat "$tmp/one.err")" ;; esac
  for np in 2 3; do
    "${mpi[@]}" -np $np "$chassis" vnnlib "$net" "$prop" --timeout 30 >"$tmp/many" 2>"$tmp/many.err"
    rc=$?
    many=$(head -1 "$tmp/many")
    [ "$many" = "$one" ] || fail "-np $np $(basename "$net") $(basename "$prop"): $many (exit $rc), one process: $one; $(tail -1 "$tmp/many") $(head -3 "$tmp/many.err")"
    if [ "$many" = sat ]; then
      [ "$rc" = 1 ] || fail "-np $np sat: exit $rc"
      grep -q '^ (Y_1 ' "$tmp/many" || fail "-np $np sat: no counterexample printed"
    fi
    [ "$many" = unsat ] && { [ "$rc" = 0 ] || fail "-np $np unsat: exit $rc"; }
  done
done
[[ $seen == *unsat* && $seen == *" sat"* ]] || fail "not both verdicts among the instances:$seen"

# The tree of a run that splits: every rank's domains, unique ids, every parent recorded.
"${mpi[@]}" -np 3 "$chassis" vnnlib "$A/ACASXU_run2a_1_1_batch_2000.onnx" "$P/prop_1.vnnlib" --threads 1 \
  --record-tree "$tmp/tree.csv" >"$tmp/out" 2>"$tmp/err" || fail "--record-tree under -np 3: exit $? $(cat "$tmp/err")"
[ "$(head -1 "$tmp/tree.csv")" = id,parent,rank,seconds,outcome ] || fail "tree header: $(head -1 "$tmp/tree.csv")"
domains=$(sed -n 's/.*(\([0-9]*\) domains.*/\1/p' "$tmp/out")
[ "$(($(wc -l <"$tmp/tree.csv") - 1))" = "$domains" ] || fail "tree rows $(wc -l <"$tmp/tree.csv") vs $domains domains"
python3 - "$tmp/tree.csv" <<'PY' || fail "tree check"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
ids = {r["id"] for r in rows}
assert len(ids) == len(rows), "repeated ids"
assert all(r["parent"] == "0" or r["parent"] in ids for r in rows), "unknown parent"
ranks = {r["rank"] for r in rows}
assert len(ranks) >= 2, f"only ranks {ranks} worked"
splits = sum(r["outcome"] == "split" for r in rows)
assert sum(r["parent"] != "0" for r in rows) == 2 * splits, "children != 2 x splits"
PY

if ((failures)); then echo "$failures failure(s)"; exit 1; fi
echo "mpi_search: all checks passed"
