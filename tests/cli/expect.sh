# Shared by the CLI test scripts (sourced after `chassis` is set): a scratch directory removed at
# exit, failure counting, and `expect CODE EXPECTED-SUBSTRING -- ARGS...`, which runs chassis ARGS
# and checks its exit code and that standard error contains the substring. Each script reports
# `failures` at its end.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

expect() {
  local code=$1 want=$2
  shift 3
  "$chassis" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ "$rc" != "$code" ]; then
    fail "chassis $*: exit $rc, expected $code; stderr: $(cat "$tmp/err")"
  elif ! grep -qF -- "$want" "$tmp/err"; then
    fail "chassis $*: stderr lacks '$want'; got: $(cat "$tmp/err")"
  fi
}
