#!/usr/bin/env bash
# bench:scale-convergence on the sets the README's at-scale section reports, one after another on
# a quiet machine, with the budgets it used (each JSON records its command, commit and dirty flag).
# On Gowalla the two BPR peers run apart (scale-convergence-gowalla-bpr.json: the same split, sample
# and protocol) so that each run stays near an hour. GOWALLA_T=1 adds the
# transpose (41k x 30k labels, ~60 min). PEERS_2T=1 adds each set's best peer at two threads
# beside our default there (scale-convergence-<set>-2t.json).
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
if [ "${GOWALLA_T:-0}" = 1 ]; then run gowalla-t --budget 60 --tune-budget 20 --points 7 --ours uniform,dns,warp,adaptive --peers lightfm-warp,implicit-als; fi
run2t() {
  local set=$1
  shift
  echo "[run-scale-convergence] $set at two peer threads $*" >&2
  FRESHET_BENCH_COMMAND="npm run bench:scale-convergence -- --set $set $* --peer-threads 2 --out bench/results/scale-convergence-$set-2t.json" \
    npm run -s bench:scale-convergence -- --set "$set" "$@" --peer-threads 2 --out "bench/results/scale-convergence-$set-2t.json" > /dev/null
}
if [ "${PEERS_2T:-0}" = 1 ]; then
  run2t delicious --budget 30 --tune-budget 12 --ours dns --peers lightfm-warp
  run2t mirflickr-tags --budget 20 --tune-budget 8 --ours dns --peers implicit-als
  run2t gowalla --budget 60 --tune-budget 20 --points 7 --ours warp --peers implicit-als
fi
