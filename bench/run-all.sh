#!/usr/bin/env bash
# Re-runs every committed benchmark result of the learning core, one after another on a quiet
# machine (timings suffer from anything else running). Each result records its own command.
set -euo pipefail
cd "$(dirname "$0")/.."
D=data
run() {
  local out=$1 script=$2
  shift 2
  echo "[run-all] npm run $script -- $* --out bench/results/$out" >&2
  FRESHET_BENCH_COMMAND="npm run $script -- $* --out bench/results/$out" npm run -s "$script" -- "$@" --out "bench/results/$out" > /dev/null
}
run sampler-cost.json bench:sampler
run convergence-corel5k.json bench:convergence --train $D/corel5k-mulan/train.tsv --test $D/corel5k-mulan/test.tsv --budget-seconds 4
run convergence-mirflickr25k.json bench:convergence --train $D/mirflickr25k/all.tsv --budget-seconds 4
run convergence-synthetic5000.json bench:convergence --synthetic-labels 5000 --synthetic-images 20000 --budget-seconds 10 --max-eval 1000 --slice-growth 1.3
run sgns.json bench:sgns --rounds 3 --epochs 5
run pipeline.json bench:pipeline
run soak.json bench:soak
for seed in 1 2 3; do
  run convergence-corel5k-seed$seed.json bench:convergence --train $D/corel5k-mulan/train.tsv --test $D/corel5k-mulan/test.tsv --budget-seconds 4 --seed $seed --lightfm false
done
