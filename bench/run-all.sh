#!/usr/bin/env bash
# Re-runs every committed benchmark result, one after another on a quiet machine (timings suffer
# from anything else running). Each result records its own command, commit and dirty flag.
#   bash bench/run-all.sh            # everything (about 70 minutes on 2 cores)
#   bash bench/run-all.sh live       # all but the convergence runs (about 35 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
D=${FRESHET_DATA_DIR:-data}
run() {
  local out=$1 script=$2
  shift 2
  echo "[run-all] npm run $script -- $* --out bench/results/$out" >&2
  FRESHET_BENCH_COMMAND="npm run $script -- $* --out bench/results/$out" npm run -s "$script" -- "$@" --out "bench/results/$out" > /dev/null
}
if [ "${1:-all}" = all ]; then bash bench/run-convergence.sh; fi
run sgns.json bench:sgns --rounds 3 --epochs 5
run sampler-cost.json bench:sampler
run trainer.json bench:trainer --rounds 3
run scale-out-corel5k.json bench:scale-out --train $D/corel5k-mulan/train.tsv --test $D/corel5k-mulan/test.tsv
run scale-out-synthetic5000.json bench:scale-out --synthetic-labels 5000
run pipeline.json bench:pipeline
run soak.json bench:soak
