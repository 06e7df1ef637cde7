#!/usr/bin/env bash
# Alternated before/after runs of bench:trainer and bench:sgns (ours only) between another
# checkout (built) and this one, on the same machine, for a change that must not make the live or
# offline paths slower. Each round runs the other tree first, then this one; the summary gives
# every figure's median and range on each side and the after/before ratio of each round.
#
#   bash bench/run-ab.sh /path/to/before-checkout bench/results/seams-ab [rounds]
#
# AB_ONLY=sgns runs only bench:sgns, with AB_SGNS_ARGS added (for example "--threads 2"), when
# one figure needs more rounds than the others to rise above the machine's noise.
# The before tree needs its own `npm run build` (node_modules installed). Nothing else should run.
set -euo pipefail
before=$(cd "$1" && pwd)
out=$2
rounds=${3:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$here/$out"
export FRESHET_BENCH_COMMAND="AB_ONLY=${AB_ONLY:-all} AB_SGNS_ARGS='${AB_SGNS_ARGS:-}' bash bench/run-ab.sh $1 $out $rounds"
for r in $(seq 1 "$rounds"); do
  for side in before after; do
    tree=$here
    [ "$side" = before ] && tree=$before
    if [ "${AB_ONLY:-all}" = all ]; then
      (cd "$tree" && node bench/dist/trainer.js --rounds 1 --out "$here/$out/trainer-$side-$r.json" > /dev/null)
    fi
    # shellcheck disable=SC2086 # AB_SGNS_ARGS is a list of arguments
    (cd "$tree" && node bench/dist/sgns.js --rounds 1 --epochs 5 --systems ours-popularity,ours-adaptive ${AB_SGNS_ARGS:-} --out "$here/$out/sgns-$side-$r.json" > /dev/null)
  done
done
node "$here/bench/dist/ab-summary.js" --dir "$here/$out" --rounds "$rounds" --only "${AB_ONLY:-all}" --out "$here/$out/summary.json"
