"""LightFM (WARP or BPR) under the convergence protocol (protocol.py), run the way its users run it.

Usage: lightfm_run.py SPEC.json. The spec names the inner training and validation files (tuning),
the full training and test files (the final run), the loss, the settings ({"learning_rate",
"max_sampled", "alpha"} each), the dimension, the seed, the budgets and the grid (first slice,
growth, patience, warm-up). One thread. Training is fit_partial(epochs=1) on the whole matrix per
call, as LightFM's documentation evaluates between epochs; the driver's own cost per epoch is
reported against one such call on a fresh model. Prints one JSON object.
"""
import sys
import time

import numpy as np
from lightfm import LightFM

import protocol


def make(train, spec, setting):
    n_labels = train.shape[1]
    max_sampled = setting.get("max_sampled")
    return LightFM(
        no_components=spec["dim"],
        loss=spec["loss"],
        learning_rate=setting["learning_rate"],
        item_alpha=setting.get("alpha", 0.0),
        user_alpha=setting.get("alpha", 0.0),
        max_sampled=n_labels - 1 if max_sampled is None or max_sampled >= n_labels else int(max_sampled),
        random_state=spec["seed"],
    )


def runner(spec):
    g = spec["grid"]

    def run(train, test_images, test_labels, setting, budget, patience, warmup):
        model = make(train, spec, setting)
        coo = train.tocoo()
        curve = protocol.Curve(
            budget, g["first"], g["growth"], patience, warmup,
            lambda: protocol.evaluate(model.user_embeddings, model.item_embeddings, model.item_biases, train, test_images, test_labels),
        )
        curve.start()
        while True:
            model.fit_partial(coo, epochs=1, num_threads=1)
            if not curve.epoch():
                break
        finite = all(np.isfinite(m).all() for m in (model.user_embeddings, model.item_embeddings, model.item_biases))
        return curve.result(setting, finite)

    def one_call_seconds(train, setting, k):
        model = make(train, spec, setting)
        coo = train.tocoo()
        t0 = time.perf_counter()
        model.fit_partial(coo, epochs=k, num_threads=1)
        return time.perf_counter() - t0

    return run, one_call_seconds


if __name__ == "__main__":
    import json

    spec = json.load(open(sys.argv[1]))
    run, single = runner(spec)
    protocol.main(sys.argv[1], run, single)
