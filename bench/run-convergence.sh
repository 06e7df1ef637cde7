#!/usr/bin/env bash
# The convergence benchmark on every data set and seed the README reports (3 seeds each), one
# after another on a quiet machine, then seed 1 of each again (repeatability). Each JSON records its
# own command, commit and dirty flag. Peers: LightFM WARP/BPR and implicit BPR/ALS (bench/python/).
set -euo pipefail
cd "$(dirname "$0")/.."
D=${FRESHET_DATA_DIR:-data}
run() {
  local out=$1
  shift
  echo "[run-convergence] npm run bench:convergence -- $* --out bench/results/$out" >&2
  FRESHET_BENCH_COMMAND="npm run bench:convergence -- $* --out bench/results/$out" npm run -s bench:convergence -- "$@" --out "bench/results/$out" > /dev/null
}
for seed in ${SEEDS:-1 2 3}; do
  run "convergence-corel5k-seed$seed.json" --train "$D/corel5k-mulan/train.tsv" --test "$D/corel5k-mulan/test.tsv" --budget-seconds 2 --tune-budget-seconds 1 --seed "$seed"
  run "convergence-mirflickr25k-seed$seed.json" --train "$D/mirflickr25k/all.tsv" --budget-seconds 3 --tune-budget-seconds 1.5 --seed "$seed"
  run "convergence-synthetic5000-seed$seed.json" --synthetic-labels 5000 --synthetic-images 20000 --budget-seconds 6 --tune-budget-seconds 2 --max-eval 1000 --slice-growth 1.3 --first-slice-seconds 0.02 --seed "$seed"
done
# The same seed again on each set: the protocol's repeatability (speed-ups within 20% of the first run)
if [ "${REPEAT:-1}" = 1 ]; then
  run "convergence-corel5k-seed1-repeat.json" --train "$D/corel5k-mulan/train.tsv" --test "$D/corel5k-mulan/test.tsv" --budget-seconds 2 --tune-budget-seconds 1 --seed 1
  run "convergence-mirflickr25k-seed1-repeat.json" --train "$D/mirflickr25k/all.tsv" --budget-seconds 3 --tune-budget-seconds 1.5 --seed 1
  run "convergence-synthetic5000-seed1-repeat.json" --synthetic-labels 5000 --synthetic-images 20000 --budget-seconds 6 --tune-budget-seconds 2 --max-eval 1000 --slice-growth 1.3 --first-slice-seconds 0.02 --seed 1
fi
# Median and range over the seeds, repeatability, and which goals were met: bench/results/convergence-summary.json.
npm run -s bench:convergence-summary
