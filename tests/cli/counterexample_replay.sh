#!/usr/bin/env bash
# Counterexamples that round-trip: `chassis verify --json` writes each counterexample as numbers
# (float64 values that read back to the same doubles), and `chassis run FILE Module --replay
# cex.json --property NAME` re-runs the module on exactly those inputs and random choices and
# reports whether the property's condition is false there (exit 1) or not (exit 0).
# Usage: counterexample_replay.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
src=$2
source "$(dirname "$0")/expect.sh"
bug=$src/tests/data/verify/braking_bug.chs

"$chassis" verify "$bug" --json >"$tmp/bug.json"
[ $? = 1 ] || fail "verify braking_bug --json: expected exit 1"
python3 - "$tmp/bug.json" <<'PY' || fail "verify --json: counterexample shape"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["tool"] == "chassis" and d["command"] == "verify", d
r = {x["property"]: x for x in d["results"]}
cx = r["never_late_when_slow"]["counterexample"]
assert cx["module"] == "Braking" and cx["inputs"] == {}, cx
assert set(cx["choices"]) == {"distance", "speed", "Sensor/noise"}, cx
assert all(isinstance(v, float) for v in cx["choices"].values()), cx
v = r["brakes_when_close"]["counterexample"]["vars"]
assert set(v) == {"reading", "speed"} and all(isinstance(x, float) for x in v.values()), v
assert d["summary"]["violated"] == 2 and d["summary"]["exit_code"] == 1, d["summary"]
PY

# The always[] property: Braking's choices replayed; the condition is false there.
"$chassis" run "$bug" Braking --replay "$tmp/bug.json" --property never_late_when_slow \
  >"$tmp/out" 2>"$tmp/err"
[ $? = 1 ] || fail "replay never_late_when_slow: expected exit 1; $(cat "$tmp/err")"
grep -q "property never_late_when_slow: condition false here: violated" "$tmp/out" ||
  fail "replay never_late_when_slow: $(cat "$tmp/out")"
# The forall property: the quantified variables bind Controller's inputs by name.
"$chassis" run "$bug" Controller --replay "$tmp/bug.json" --property brakes_when_close \
  >"$tmp/out" 2>"$tmp/err"
[ $? = 1 ] || fail "replay brakes_when_close: expected exit 1; $(cat "$tmp/err")"
grep -q "brake = false" "$tmp/out" && grep -q "condition false here: violated" "$tmp/out" ||
  fail "replay brakes_when_close: $(cat "$tmp/out")"

# A counterexample whose value is no short decimal (u = 29/30 rounded): the replayed choice and
# the outputs are exactly the float64 values the verifier found.
cat >"$tmp/noise.chs" <<'CHS'
module Scale(x: real in [0, 1]) -> (y: real) {
    y = x * 7.0;
}
module Noise() -> (u: real, z: real) {
    u ~ Uniform(0.0, 1.0);
    z = u * 3.0;
}
property below_two: forall x in [0, 1]: Scale(x).y <= 2.0;
property noise_small: always[Noise](z < 2.9);
CHS
"$chassis" verify "$tmp/noise.chs" --json >"$tmp/noise.json"
"$chassis" run "$tmp/noise.chs" Noise --replay "$tmp/noise.json" --property noise_small --json \
  >"$tmp/run.json" 2>"$tmp/err"
[ $? = 1 ] || fail "replay noise_small: expected exit 1; $(cat "$tmp/err")"
python3 - "$tmp/noise.json" "$tmp/run.json" <<'PY' || fail "noise_small: not a float64 round trip"
import json, sys
cx = {r["property"]: r for r in json.load(open(sys.argv[1]))["results"]}["noise_small"]
u = cx["counterexample"]["choices"]["u"]
env = json.load(open(sys.argv[2]))
assert env["command"] == "run" and env["summary"]["exit_code"] == 1, env
run = env["results"][0]
assert run["outputs"]["u"] == u and run["outputs"]["z"] == u * 3.0, (u, run["outputs"])
assert run["trace"][0]["address"] == "u" and run["trace"][0]["value"] == u, run["trace"]
assert run["replay"] == {"property": "noise_small", "condition": False, "violated": True,
                         "exact_point": False,
                         "drawn_choices": []}, run["replay"]
PY
# The same point moved inside the property: not a counterexample (exit 0).
python3 - "$tmp/noise.json" "$tmp/safe.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for r in d["results"]:
    if r["property"] == "noise_small":
        r["counterexample"]["choices"]["u"] = 0.5
json.dump(d, open(sys.argv[2], "w"))
PY
"$chassis" run "$tmp/noise.chs" Noise --replay "$tmp/safe.json" --property noise_small >"$tmp/out"
[ $? = 0 ] || fail "replay at u = 0.5: expected exit 0"
grep -q "condition true here: not a counterexample" "$tmp/out" || fail "u = 0.5: $(cat "$tmp/out")"

# A counterexample Z3 proved only at an exact point that is no float64 number (x = sqrt 2): its
# nearest double as the number, the exact decimal beside it; the replay at the double says so.
cat >"$tmp/sqrt.chs" <<'CHS'
module Sq(x: real in [0, 2]) -> (y: real) {
    y = x * x;
}
property not_two: forall x in [0, 2]: Sq(x).y != 2.0;
CHS
"$chassis" verify "$tmp/sqrt.chs" --json >"$tmp/sqrt.json"
python3 - "$tmp/sqrt.json" <<'PY' || fail "exact counterexample: JSON"
import json, math, sys
cx = json.load(open(sys.argv[1]))["results"][0]["counterexample"]
assert cx["vars"]["x"] == math.sqrt(2), cx
assert cx["exact"]["x"].startswith("1.4142135623730950488"), cx
PY
"$chassis" run "$tmp/sqrt.chs" Sq --replay "$tmp/sqrt.json" >"$tmp/out" 2>"$tmp/err"
[ $? = 0 ] || fail "replay of the exact point: expected exit 0 (float64 misses it)"
grep -q "an exact point that is no float64 number (x = 1.41421356237309504880?)" "$tmp/out" ||
  fail "replay of the exact point: no note: $(cat "$tmp/out")"

# Range obligations: the run fails at the call the obligation names.
rv=$src/tests/data/verify/range_violated.chs
"$chassis" verify "$rv" --json >"$tmp/rv.json"
"$chassis" run "$rv" Noisy --replay "$tmp/rv.json" --property range@Noisy:20:9 >"$tmp/out" 2>"$tmp/err"
[ $? = 1 ] || fail "replay range@Noisy:20:9: expected exit 1"
grep -q "the run fails here: violated" "$tmp/out" || fail "range@Noisy:20:9: $(cat "$tmp/out")"

# Errors: a located message, exit 2.
expect 2 "several counterexamples" -- run "$bug" Braking --replay "$tmp/bug.json"
expect 2 "is a run of module 'Braking', not 'Sensor'" -- \
  run "$bug" Sensor --replay "$tmp/bug.json" --property never_late_when_slow --input distance=1
expect 2 "property 'rarely_late' has no counterexample here" -- \
  run "$bug" Braking --replay "$tmp/bug.json" --property rarely_late
expect 2 "range@Noisy:22:9' has no counterexample here" -- \
  run "$rv" Noisy --replay "$tmp/rv.json" --property range@Noisy:22:9
echo '{"results": [' >"$tmp/bad.json"
expect 2 "bad.json: error: not JSON" -- run "$bug" Braking --replay "$tmp/bad.json"
expect 2 "needs --replay" -- run "$bug" Braking --property never_late_when_slow

echo "counterexample_replay: $failures failure(s)"
[ "$failures" = 0 ]
