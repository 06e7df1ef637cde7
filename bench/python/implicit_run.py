"""implicit (benfred/implicit: ALS and BPR, native code) under the convergence protocol (protocol.py).

Usage: implicit_run.py SPEC.json, with the same spec as lightfm_run.py; the loss is "als" or
"bpr", the settings {"learning_rate", "regularization"} (BPR) or {"regularization", "alpha"}
(ALS: confidence 1 + alpha on observed pairs). One thread. Training is one fit() call for as many
iterations as the budget takes, evaluated between iterations from its per-iteration callback, as
implicit's users evaluate; the driver's cost per iteration is reported against one fit() of one
iteration on a fresh model. Prints one JSON object.
"""
import json
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

import protocol

from implicit.cpu.als import AlternatingLeastSquares
from implicit.cpu.bpr import BayesianPersonalizedRanking


def make(spec, setting, iterations):
    if spec["loss"] == "als":
        return AlternatingLeastSquares(
            factors=spec["dim"], regularization=setting["regularization"], iterations=iterations,
            num_threads=1, random_state=spec["seed"], calculate_training_loss=False,
        )
    return BayesianPersonalizedRanking(
        factors=spec["dim"], learning_rate=setting["learning_rate"], regularization=setting["regularization"],
        iterations=iterations, num_threads=1, random_state=spec["seed"], verify_negative_samples=True,
    )


def weighted(train, spec, setting):
    if spec["loss"] != "als":
        return train
    m = train.copy()
    m.data = 1.0 + setting["alpha"] * m.data
    return m.astype(np.float32)


def runner(spec):
    g = spec["grid"]

    def run(train, test_images, test_labels, setting, budget, patience, warmup):
        # a cap on iterations the budget never reaches: the callback ends the run
        model = make(spec, setting, 1_000_000)
        user_items = weighted(train, spec, setting)
        curve = protocol.Curve(
            budget, g["first"], g["growth"], patience, warmup,
            lambda: protocol.evaluate(model.user_factors, model.item_factors, None, train, test_images, test_labels),
        )

        def callback(*_):
            # ALS calls it with (iteration, seconds, loss), BPR with (iteration, seconds, correct, skipped)
            if not curve.epoch():
                raise protocol.Stop()

        curve.start()
        try:
            model.fit(user_items, show_progress=False, callback=callback)
        except protocol.Stop:
            pass
        finite = np.isfinite(model.user_factors).all() and np.isfinite(model.item_factors).all()
        return curve.result(setting, bool(finite))

    def one_call_seconds(train, setting, k):
        model = make(spec, setting, k)
        user_items = weighted(train, spec, setting)
        t0 = time.perf_counter()
        model.fit(user_items, show_progress=False)
        return time.perf_counter() - t0

    return run, one_call_seconds


if __name__ == "__main__":
    spec = json.load(open(sys.argv[1]))
    run, single = runner(spec)
    # one thread for BLAS too (ALS solves with it)
    with threadpool_limits(1):
        protocol.main(sys.argv[1], run, single)
