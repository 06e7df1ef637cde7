"""LightFM on a leave-one-out split, tuned and run exactly as our contenders are.

Usage: lightfm_warp.py SPEC.json. The spec names the inner training file and validation file (for
tuning), the full training file and the test file (for the final run), the loss (warp or bpr), the
settings to try ({"learning_rate", "max_sampled", "alpha"} each), the dimension, the seed, the
tuning and final time budgets, and the evaluation grid (first slice, growth, patience).

Each setting trains with fit_partial one epoch at a time, single thread, and is evaluated on the
geometric time grid as soon as an epoch ends past a grid point (held-out P@5 and MAP with the
image's training labels filtered out, evaluation excluded from the clocks). The choice rule is
ours: best validation P@5 among settings that did not diverge; among those within 1% of it, the
one that reaches 99% of its own best first. Prints one JSON object.
"""
import json
import math
import sys
import time

import numpy as np
import scipy.sparse as sp
from lightfm import LightFM


def read_pairs(path, images, labels, grow):
    rows, cols = [], []
    with open(path) as f:
        for line in f:
            img, _, labs = line.rstrip("\n").partition("\t")
            if img not in images:
                images[img] = len(images)
            for lab in labs.split():
                if lab not in labels:
                    labels[lab] = len(labels)
                rows.append(images[img])
                cols.append(labels[lab])
    return rows, cols


def load(train_path, test_path):
    images, labels = {}, {}
    rows, cols = read_pairs(train_path, images, labels, True)
    trows, tcols = read_pairs(test_path, images, labels, True)
    shape = (len(images), len(labels))
    train = sp.coo_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=shape).tocsr()
    train.data[:] = 1.0
    return train, np.array(trows), np.array(tcols)


def evaluate(model, train, test_images, test_labels):
    scores = model.user_embeddings[test_images] @ model.item_embeddings.T + model.item_biases[None, :]
    mask = train[test_images].toarray() > 0
    scores[mask] = -np.inf
    target = scores[np.arange(len(test_images)), test_labels]
    # NaN scores (a diverged model) rank above the target, a NaN target ranks last
    above = ~(scores <= target[:, None])
    above[np.arange(len(test_images)), test_labels] = False
    ranks = 1 + above.sum(axis=1)
    return float((ranks <= 5).mean() / 5), float((1.0 / ranks).mean())


def run(train, test_images, test_labels, loss, setting, dim, seed, budget, first, growth, patience):
    n_labels = train.shape[1]
    max_sampled = setting.get("max_sampled")
    model = LightFM(
        no_components=dim,
        loss=loss,
        learning_rate=setting["learning_rate"],
        item_alpha=setting.get("alpha", 0.0),
        user_alpha=setting.get("alpha", 0.0),
        max_sampled=n_labels - 1 if max_sampled is None or max_sampled >= n_labels else int(max_sampled),
        random_state=seed,
    )
    # an epoch in slices of about 2,000 pairs (whole images each, so WARP still sees every
    # positive of an image): the clock can then stop between slices, as ours does between batches,
    # instead of only at epoch ends
    order = np.random.RandomState(seed).permutation(train.shape[0])
    slices = max(1, int(round(train.nnz / 2000)))
    parts = []
    for rows in np.array_split(order, slices):
        keep = np.zeros(train.shape[0], dtype=bool)
        keep[rows] = True
        part = (sp.diags(keep.astype(np.float32)) @ train).tocsr()
        part.eliminate_zeros()
        parts.append(part.tocoo())
    trained, cpu, curve, epochs = 0.0, 0.0, [], 0.0
    next_eval, best, since_best = first, -1.0, 0
    step = 0
    while trained < budget:
        part = parts[step % len(parts)]
        step += 1
        t0, c0 = time.perf_counter(), time.process_time()
        model.fit_partial(part, epochs=1, num_threads=1)
        trained += time.perf_counter() - t0
        cpu += time.process_time() - c0
        epochs = step / len(parts)
        if trained < next_eval and trained < budget:
            continue
        p5, mrr = evaluate(model, train, test_images, test_labels)
        curve.append([round(trained, 5), round(cpu, 5), epochs, round(p5, 5), round(mrr, 5)])
        next_eval = max(next_eval * growth, trained + 1e-4)
        if p5 > best:
            best, since_best = p5, 0
        else:
            since_best += 1
            if patience is not None and since_best >= patience:
                break
    finite = all(np.isfinite(m).all() for m in (model.user_embeddings, model.item_embeddings, model.item_biases))
    best_p5 = max(c[3] for c in curve)
    return {
        "setting": setting,
        "curve": curve,
        "bestP5": best_p5,
        "bestMap": max(c[4] for c in curve),
        "epochs": epochs,
        "diverged": (not finite) or curve[-1][3] < 0.25 * best_p5,
    }


def seconds_to(curve, target):
    for c in curve:
        if c[3] >= target:
            return c[0]
    return math.inf


def choose(results):
    stable = [r for r in results if not r["diverged"]] or results
    top = max(r["bestP5"] for r in stable)
    near = [r for r in stable if r["bestP5"] >= 0.99 * top]
    near.sort(key=lambda r: seconds_to(r["curve"], 0.99 * r["bestP5"]))
    return near[0]


def main(spec_path):
    spec = json.load(open(spec_path))
    g = spec["grid"]
    inner, vi, vl = load(spec["innerTrain"], spec["validation"])
    tuning = [
        run(inner, vi, vl, spec["loss"], s, spec["dim"], spec["seed"], spec["tuneBudget"], g["first"], g["growth"], g["patience"])
        for s in spec["settings"]
    ]
    chosen = choose(tuning)
    train, ti, tl = load(spec["train"], spec["test"])
    final = run(train, ti, tl, spec["loss"], chosen["setting"], spec["dim"], spec["seed"], spec["budget"], g["first"], g["growth"], None)
    print(json.dumps({
        "loss": spec["loss"],
        "chosen": chosen["setting"],
        "tuning": [{"setting": r["setting"], "validationBestP5": r["bestP5"], "diverged": r["diverged"]} for r in tuning],
        "final": final,
    }))


if __name__ == "__main__":
    main(sys.argv[1])
