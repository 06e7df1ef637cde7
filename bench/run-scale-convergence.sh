#!/usr/bin/env bash
# bench:scale-convergence on the sets the README's at-scale section reports, one after another on
# a quiet machine, with the budgets it used (each JSON records its command, commit and dirty flag).
# On Gowalla the two BPR peers run apart (scale-convergence-gowalla-bpr.json: the same split, sample
# and protocol) so that each run stays near an hour. GOWALLA_T=1 adds the
# transpose (41k x 30k labels), which the README does not report yet.
set -euo pipefail
cd "$(dirname "$0")/.."
run() {
  local set=$1
  shift
  echo "[run-scale-convergence] $set $*" >&2
  FRESHET_BENCH_COMMAND="npm run bench:scale-convergence -- --set $set $* --out bench/results/scale-convergence-$set.json" \
    npm run -s bench:scale-convergence -- --set "$set" "$@" --out "bench/results/scale-convergence-$set.json" > /dev/null
}
run delicious --budget 30 --tune-budget 12
run mirflickr-tags --budget 20 --tune-budget 8
run gowalla --budget 60 --tune-budget 20 --points 7 --ours uniform,inbatch,dns,warp,adaptive --peers lightfm-warp,implicit-als
FRESHET_BENCH_COMMAND="npm run bench:scale-convergence -- --set gowalla --budget 60 --tune-budget 20 --points 7 --ours '' --peers lightfm-bpr,implicit-bpr --out bench/results/scale-convergence-gowalla-bpr.json" \
  npm run -s bench:scale-convergence -- --set gowalla --budget 60 --tune-budget 20 --points 7 --ours '' --peers lightfm-bpr,implicit-bpr --out bench/results/scale-convergence-gowalla-bpr.json > /dev/null
if [ "${GOWALLA_T:-0}" = 1 ]; then run gowalla-t --budget 60 --tune-budget 20 --points 7 --ours uniform,inbatch,dns,warp,adaptive --peers lightfm-warp,implicit-als; fi
