#!/usr/bin/env bash
# Documentation generated from the command-line definition: `check --emit=dot` (the module call
# graph) parses with Graphviz `dot` (skipped when dot is absent); `chassis --man` and the
# committed docs/chassis.1 document every subcommand of `chassis --help`; `chassis --completion
# bash` and the committed scripts/chassis-completion.bash complete every subcommand, and the
# former a subcommand's options. (A committed copy older than the binary is only noted.)
# Usage: cli_docs.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
src=$2
source "$(dirname "$0")/expect.sh"

# The subcommands as --help lists them (the CLI11 definition).
subs=$("$chassis" --help | sed -n '/^Subcommands:/,$p' | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p')
[ "$(echo "$subs" | wc -l)" -ge 10 ] || fail "chassis --help lists too few subcommands: $subs"

# --emit=dot: the call graph, networks as boxes; Graphviz parses it.
"$chassis" check "$src/examples/braking_shield.chs" --emit=dot >"$tmp/g.dot" ||
  fail "check --emit=dot: exit $?"
grep -q '"Shield" -> "NetBrake";' "$tmp/g.dot" || fail "--emit=dot: no Shield -> NetBrake edge"
grep -q '"NetBrake" -> "Policy";' "$tmp/g.dot" || fail "--emit=dot: no NetBrake -> Policy edge"
grep -q '"Policy" \[shape=box\];' "$tmp/g.dot" || fail "--emit=dot: the network is not a box"
[ "$(grep -c -- '->' "$tmp/g.dot")" = 3 ] || fail "--emit=dot: not 3 edges: $(cat "$tmp/g.dot")"
if command -v dot >/dev/null; then
  dot -Tsvg "$tmp/g.dot" -o "$tmp/g.svg" 2>"$tmp/err" || fail "dot rejects --emit=dot: $(cat "$tmp/err")"
  grep -q "<svg" "$tmp/g.svg" || fail "dot made no SVG"
else
  echo "SKIP: Graphviz dot not installed"
fi
"$chassis" check "$src/examples/braking.chs" --emit=bad >/dev/null 2>&1
[ $? = 2 ] || fail "check --emit=bad: exit code"

# The man page: every subcommand, roff that groff reads without warnings, and docs/chassis.1
# is its current output.
"$chassis" --man >"$tmp/chassis.1" || fail "--man: exit $?"
for s in $subs; do
  grep -q "^\.SS \"$s[ \"]" "$tmp/chassis.1" || fail "--man lacks subcommand $s"
done
grep -q '^\.B \\-\\-replay' "$tmp/chassis.1" || fail "--man lacks run's --replay"
if command -v groff >/dev/null; then
  groff -man -Tutf8 -ww "$tmp/chassis.1" >/dev/null 2>"$tmp/err"
  [ -s "$tmp/err" ] && fail "groff warns on the man page: $(head -3 "$tmp/err")"
fi
# The committed copy documents every subcommand too; an option added since it was generated
# (e.g. by a merge) is a note, not a failure: regenerate with chassis --man > docs/chassis.1.
for s in $subs; do
  grep -q "^\.SS \"$s[ \"]" "$src/docs/chassis.1" || fail "docs/chassis.1 lacks subcommand $s"
done
cmp -s "$tmp/chassis.1" "$src/docs/chassis.1" ||
  echo "NOTE: docs/chassis.1 differs from chassis --man: regenerate it"

# Bash completion: the subcommands at the first word, a subcommand's options after it.
"$chassis" --completion bash >"$tmp/completion.bash" || fail "--completion bash: exit $?"
cmp -s "$tmp/completion.bash" "$src/scripts/chassis-completion.bash" ||
  echo "NOTE: scripts/chassis-completion.bash differs from chassis --completion bash: regenerate it"
got=$(bash -c 'source "$1"; COMP_WORDS=(chassis ""); COMP_CWORD=1; _chassis; printf "%s\n" "${COMPREPLY[@]}"' \
  _ "$src/scripts/chassis-completion.bash" | grep -v '^-' | sort)
[ "$got" = "$(echo "$subs" | sort)" ] || fail "the committed completion's subcommands: $got"
got=$(bash -c 'source "$1"; COMP_WORDS=(chassis ""); COMP_CWORD=1; _chassis; printf "%s\n" "${COMPREPLY[@]}"' \
  _ "$tmp/completion.bash" | grep -v '^-' | sort)
[ "$got" = "$(echo "$subs" | sort)" ] || fail "completion of the first word: $got"
got=$(bash -c 'source "$1"; COMP_WORDS=(chassis run x.chs --re); COMP_CWORD=3; _chassis; echo "${COMPREPLY[@]}"' \
  _ "$tmp/completion.bash")
[ "$got" = "--replay" ] || fail "completion of run --re: '$got'"
got=$(bash -c 'source "$1"; COMP_WORDS=(chassis verify x.chs --em); COMP_CWORD=3; _chassis; echo "${COMPREPLY[@]}"' \
  _ "$tmp/completion.bash")
[ "$got" = "--emit --emit-dir" ] || fail "completion of verify --em: '$got'"
expect 2 "--completion" -- --completion zsh

echo "cli_docs: $failures failure(s)"
[ "$failures" = 0 ]
