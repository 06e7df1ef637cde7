"""The convergence protocol every Python peer runs under, the same as ours (bench/src/lib/convergence-run.ts).

A peer trains the way its users run it (LightFM: fit_partial one whole epoch per call; implicit:
one fit call, its per-iteration callback) and is evaluated between epochs whenever its training
clock has passed the next point of a geometric time grid: held-out P@5 and MAP with the image's
training labels filtered out, evaluation excluded from the clocks (wall and CPU).

Tuning: every setting on the inner training part against the validation pairs, for the tuning
budget or until P@5 has not improved for `patience` evaluations, where patience only counts once
the setting has trained for `warmup` seconds and at least one epoch (no setting can be stopped on
the flat start every learner shows before it learns). The choice: the best validation P@5 among
settings that did not diverge and did not end at their starting value; within 1% of it, the one
first at 99% of its own best.
"""
import json
import math
import time

import numpy as np
import scipy.sparse as sp


def read_pairs(path, images, labels):
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
    """The training matrix (images x labels, CSR, ones) and the held-out pairs as index arrays."""
    images, labels = {}, {}
    rows, cols = read_pairs(train_path, images, labels)
    trows, tcols = read_pairs(test_path, images, labels)
    shape = (len(images), len(labels))
    train = sp.coo_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=shape).tocsr()
    train.data[:] = 1.0
    return train, np.array(trows), np.array(tcols)


def evaluate(user_vectors, item_vectors, item_biases, train, test_images, test_labels):
    """Held-out P@5 and MAP (mean reciprocal rank of the one held-out label), training labels left out."""
    scores = user_vectors[test_images] @ item_vectors.T
    if item_biases is not None:
        scores = scores + item_biases[None, :]
    mask = train[test_images].toarray() > 0
    scores[mask] = -np.inf
    target = scores[np.arange(len(test_images)), test_labels]
    # NaN scores (a diverged model) rank above the target, a NaN target ranks last
    above = ~(scores <= target[:, None])
    above[np.arange(len(test_images)), test_labels] = False
    ranks = 1 + above.sum(axis=1)
    return float((ranks <= 5).mean() / 5), float((1.0 / ranks).mean())


class Stop(Exception):
    """Raised from a per-epoch callback to end a run (budget spent, or patience out)."""


class Curve:
    """The clocks and the evaluation grid of one run: call epoch() after each epoch of training."""

    def __init__(self, budget, first, growth, patience, warmup, evaluate_now):
        self.budget, self.growth, self.patience, self.warmup = budget, growth, patience, warmup
        self.evaluate_now = evaluate_now
        self.trained = self.cpu = 0.0
        self.epochs = 0
        self.next_eval, self.best, self.since_best = first, -1.0, 0
        self.points = []
        self._t0 = self._c0 = None

    def start(self):
        self._t0, self._c0 = time.perf_counter(), time.process_time()

    def epoch(self):
        """One epoch ended: book its time; evaluate on the grid; True while the run goes on."""
        self.trained += time.perf_counter() - self._t0
        self.cpu += time.process_time() - self._c0
        self.epochs += 1
        done = self.trained >= self.budget
        if self.trained >= self.next_eval or done:
            p5, mrr = self.evaluate_now()
            self.points.append([round(self.trained, 5), round(self.cpu, 5), self.epochs, round(p5, 5), round(mrr, 5)])
            self.next_eval = max(self.next_eval * self.growth, self.trained + 1e-4)
            if p5 > self.best:
                self.best, self.since_best = p5, 0
            elif self.trained >= self.warmup:
                # patience counts only past the warm-up (and the first epoch, which this is at least)
                self.since_best += 1
                if self.patience is not None and self.since_best >= self.patience:
                    done = True
        self.start()
        return not done

    def result(self, setting, finite):
        best_p5 = max(c[3] for c in self.points)
        return {
            "setting": setting,
            "curve": self.points,
            "bestP5": best_p5,
            "bestMap": max(c[4] for c in self.points),
            "epochs": self.epochs,
            "diverged": (not finite) or self.points[-1][3] < 0.25 * best_p5,
            # never better than its first evaluation: the flat start, not a learned model
            "flat": best_p5 <= self.points[0][3],
        }


def seconds_to(curve, target):
    for c in curve:
        if c[3] >= target:
            return c[0]
    return math.inf


def choose(results):
    usable = [r for r in results if not r["diverged"] and not r["flat"]] or [r for r in results if not r["diverged"]] or results
    top = max(r["bestP5"] for r in usable)
    near = [r for r in usable if r["bestP5"] >= 0.99 * top]
    near.sort(key=lambda r: seconds_to(r["curve"], 0.99 * r["bestP5"]))
    return near[0]


def main(spec_path, run, one_call_seconds):
    """Tunes on the inner split, runs the chosen setting on the full one, prints one JSON object.

    run(train, test_images, test_labels, setting, budget, patience, warmup) -> result dict;
    one_call_seconds(train, setting, k) -> seconds of k epochs trained as one call on a fresh model.
    The driver's own cost is its training seconds per epoch over the first k epochs of the final
    run (evaluation excluded) against k epochs as one call: the same epochs from the same start.
    """
    spec = json.load(open(spec_path))
    g = spec["grid"]
    inner, vi, vl = load(spec["innerTrain"], spec["validation"])
    tuning = [run(inner, vi, vl, s, spec["tuneBudget"], g["patience"], g["warmup"]) for s in spec["settings"]]
    chosen = choose(tuning)
    train, ti, tl = load(spec["train"], spec["test"])
    final = run(train, ti, tl, chosen["setting"], spec["budget"], None, 0.0)
    # the last evaluation within 50 epochs: its clock holds exactly that many epochs of training
    row = [c for c in final["curve"] if c[2] <= 50][-1] if final["curve"][0][2] <= 50 else final["curve"][0]
    k = int(row[2])
    driver = row[0] / k
    once = one_call_seconds(train, chosen["setting"], k)
    single = once if once > 3 else sorted([once] + [one_call_seconds(train, chosen["setting"], k) for _ in range(2)])[1]
    single /= k
    print(json.dumps({
        "chosen": chosen["setting"],
        "tuning": [
            {"setting": r["setting"], "validationBestP5": r["bestP5"], "diverged": r["diverged"], "flat": r["flat"], "curve": r["curve"]}
            for r in tuning
        ],
        "final": final,
        "driver": {"epochs": k, "oneCallEpochSeconds": single, "driverEpochSeconds": driver, "ratio": driver / single if single > 0 else None},
    }))
