#!/usr/bin/env bash
# The bare git work a governed run needs per phase, with nothing else: apply the phase's
# patch, run the (trivial) CI command, stage and commit. The baseline of
# bench/orchestration/run.py, which times this whole script.
#
#   bare_git.sh REPO PATCH_DIR N CI_COMMAND [ARG...]
#
# PATCH_DIR holds 0.patch .. (N-1).patch. Works on a new branch "bare" of REPO's checkout.
set -euo pipefail

repo=$1
patches=$2
n=$3
shift 3

cd "$repo"
g() { git -c commit.gpgsign=false -c core.hooksPath=/dev/null "$@"; }
g checkout -q -b bare
for ((i = 0; i < n; i++)); do
    g apply "$patches/$i.patch"
    "$@" >/dev/null
    g add -A
    g commit -q --no-verify -m "phase $i"
done
