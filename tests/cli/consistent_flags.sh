#!/usr/bin/env bash
# One meaning per flag across subcommands: a negative seed, count or time limit is refused by the
# parser with its name; -q is --quiet in every subcommand (infer's old -q for --query is refused);
# --out names a file (verify's old --out DIR still works, with a warning; --emit-dir is the
# directory); train without -o is refused instead of discarding the network.
# Usage: consistent_flags.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
src=$2
source "$(dirname "$0")/expect.sh"
ec=$src/tests/data/verify/exit_codes.chs
task=$src/examples/braking_task.chs
acas=$src/tests/data/acasxu/ACASXU_run2a_1_1_batch_2000.onnx

expect 2 "--seed: must not be negative, got -1" -- verify "$ec" --statistical --seed -1
expect 2 "--samples: must not be negative, got -5" -- verify "$ec" --statistical --samples -5
expect 2 "--timeout: must not be negative, got -2" -- verify "$ec" --timeout -2
expect 2 "--seed: must not be negative, got -3" -- run "$ec" Double --input x=1 --seed=-3
expect 2 "--time-limit: must not be negative, got -1" -- verify "$ec" --time-limit -1
expect 2 "--samples: must not be negative, got -10" -- \
  infer "$src/examples/sprinkler.chs" WetGrass --samples -10
expect 2 "--chains: must not be negative, got -1" -- \
  infer "$src/examples/sprinkler.chs" WetGrass --chains -1
expect 2 "--epochs: must not be negative, got -1" -- \
  train "$task" --inputs Controller --label Controller.brake --epochs -1
expect 2 "--timeout: must be a positive number of seconds, got -3" -- \
  vnnlib "$acas" "$src/tests/data/vnnlib/prop_1.vnnlib" --timeout -3
expect 2 "--samples: must not be negative, got -4" -- eval "$acas" --task "$task" --inputs Controller \
  --label Controller.brake --samples -4

# train without -o: refused, nothing trained; --epochs 0 (only the dataset) is allowed.
expect 2 "no -o/--output FILE: the trained network would be discarded" -- \
  train "$task" --inputs Controller --label Controller.brake --epochs 1 --samples 50
"$chassis" train "$task" --inputs Controller --label Controller.brake --epochs 0 --samples 50 \
  --save-data "$tmp/data.csv" >/dev/null 2>&1 || fail "train --epochs 0 --save-data without -o"
[ -s "$tmp/data.csv" ] || fail "--save-data wrote nothing"

# -q is --quiet in infer as in train and compare: the old `-q NAMES` for --query is now an
# argument too many, refused with a usage error (and --query gives the posterior).
"$chassis" infer "$src/examples/sprinkler.chs" WetGrass --method exact --query rain \
  >"$tmp/new.out" 2>"$tmp/new.err" || fail "infer --query"
grep -q "rain" "$tmp/new.out" || fail "infer --query rain: no rain"
"$chassis" infer "$src/examples/sprinkler.chs" WetGrass --method exact -q rain \
  >"$tmp/old.out" 2>"$tmp/old.err"
rc=$?
[ "$rc" = 2 ] || fail "infer -q rain: exit $rc, expected 2 (usage)"
grep -q "rain" "$tmp/old.err" || fail "infer -q rain: the error does not name the extra argument"

# verify --out DIR (old spelling of --emit-dir): still works, with a warning.
"$chassis" verify "$ec" --property tight --emit=smt2 --out "$tmp/q" >/dev/null 2>"$tmp/err"
[ -s "$tmp/q/tight.0.smt2" ] || fail "verify --out DIR wrote no query"
grep -q "warning: --out DIR is deprecated" "$tmp/err" || fail "verify --out: no warning"
"$chassis" verify "$ec" --property tight --emit=smt2 --emit-dir "$tmp/q2" >/dev/null 2>"$tmp/err"
[ -s "$tmp/q2/tight.0.smt2" ] || fail "verify --emit-dir wrote no query"
grep -q "deprecated" "$tmp/err" && fail "verify --emit-dir: a deprecation warning"
# vnnlib's result file is -o/--output as in every other subcommand (--out still names it).
vc=$src/tests/data/vnncomp
"$chassis" vnnlib "$vc/onnx/cartpole.onnx" "$vc/vnnlib/cartpole_case_unsafe_42.vnnlib" \
  -o "$tmp/r1.txt" >/dev/null
"$chassis" vnnlib "$vc/onnx/cartpole.onnx" "$vc/vnnlib/cartpole_case_unsafe_42.vnnlib" \
  --out "$tmp/r2.txt" >/dev/null
[ "$(head -1 "$tmp/r1.txt")" = sat ] && cmp -s "$tmp/r1.txt" "$tmp/r2.txt" ||
  fail "vnnlib -o and --out: $(cat "$tmp/r1.txt")"
# The old spellings are hidden from --help.
"$chassis" verify --help | grep -q -- "--out" && fail "verify --help lists --out"
"$chassis" infer --help | grep -qE -- "-q,--quiet" || fail "infer --help does not list -q,--quiet"

echo "consistent_flags: $failures failure(s)"
[ "$failures" = 0 ]
