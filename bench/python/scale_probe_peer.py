"""LightFM (WARP, BPR) and implicit (ALS, BPR) beside bench:scale-probe: the same training pairs, the same evaluation images,
the same full-ranking Recall@20 and NDCG@20 (every label the image has not trained on), at the same
moments of training time, the given settings and threads (one by default), fit_partial one epoch per call (its
documented way); evaluation excluded from the clock.

Usage: scale_probe_peer.py SPEC.json, SPEC = {train, test, library, loss, dim, seed, checkpoints, setting, threads};
train and test hold `image<TAB>label label ...` lines. Prints one JSON object.
"""
import json
import math
import sys
import time

import numpy as np
import scipy.sparse as sp
from lightfm import LightFM


def read(path, images, labels, grow):
    out = []
    with open(path) as f:
        for line in f:
            img, _, labs = line.rstrip("\n").partition("\t")
            if img not in images:
                if not grow:
                    continue
                images[img] = len(images)
            row = []
            for lab in labs.split():
                if lab not in labels:
                    labels[lab] = len(labels)
                row.append(labels[lab])
            out.append((images[img], row))
    return out


def full_ranking(user_vectors, item_vectors, item_biases, train, cases, k=20):
    """Recall@20 (hits over held-out labels), NDCG@20, P@5, MAP: the definitions of libs/core/src/eval/full-ranking.ts."""
    recall = ndcg = p5 = ap = 0.0
    index = np.arange(item_vectors.shape[0])
    for start in range(0, len(cases), 500):
        part = cases[start : start + 500]
        rows = np.array([u for u, _ in part])
        scores = user_vectors[rows] @ item_vectors.T + item_biases[None, :]
        scores[train[rows].toarray() > 0] = -np.inf
        for j, (_, truth) in enumerate(part):
            s = scores[j]
            top = np.argpartition(-s, k)[:k]
            top = top[np.argsort(-s[top], kind="stable")]
            truth_set = set(truth)
            hits = [r for r, item in enumerate(top) if item in truth_set]
            recall += len(hits) / len(truth)
            idcg = sum(1 / math.log2(r + 2) for r in range(min(k, len(truth))))
            ndcg += sum(1 / math.log2(r + 2) for r in hits) / idcg
            p5 += sum(1 for r in hits if r < 5) / 5
            # every held-out label's rank over the whole ranking (ties: the lower index first), for MAP
            t = np.array(truth)
            st = s[t][:, None]
            ranks = np.sort((s[None, :] > st).sum(1) + ((s[None, :] == st) & (index[None, :] < t[:, None])).sum(1))
            ap += float(np.mean((np.arange(len(t)) + 1) / (ranks + 1)))
    n = len(cases)
    return recall / n, ndcg / n, p5 / n, ap / n


def main(spec_path):
    spec = json.load(open(spec_path))
    images, labels = {}, {}
    train_rows = read(spec["train"], images, labels, True)
    test_rows = read(spec["test"], images, labels, False)
    rows = [u for u, labs in train_rows for _ in labs]
    cols = [l for _, labs in train_rows for l in labs]
    shape = (len(images), len(labels))
    train = sp.coo_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=shape).tocsr()
    train.data[:] = 1.0
    coo = train.tocoo()
    cases = [(u, [l for l in labs if train[u, l] == 0]) for u, labs in test_rows]
    cases = [(u, labs) for u, labs in cases if labs]
    curve = []
    checkpoints = list(spec["checkpoints"])
    name = f"{spec['library']}-{spec['loss']}"
    clock = {"trained": 0.0, "epochs": 0}

    def evaluate(user_vectors, item_vectors, item_biases):
        """At the first epoch past the next moment: the metrics, their time apart. False when the last moment is passed."""
        if clock["trained"] < checkpoints[0]:
            return True
        while checkpoints and clock["trained"] >= checkpoints[0]:
            checkpoints.pop(0)
        e0 = time.perf_counter()
        r, n, p, m = full_ranking(user_vectors, item_vectors, item_biases, train, cases)
        curve.append(
            {"seconds": clock["trained"], "epochs": clock["epochs"], "recall20": r, "ndcg20": n, "p5": p, "map": m, "evalSeconds": time.perf_counter() - e0}
        )
        print(f"[scale-probe] {name} {clock['trained']:.1f} s ({clock['epochs']} epochs): Recall@20 {r:.4f} NDCG@20 {n:.4f}", file=sys.stderr)
        return bool(checkpoints)

    setting = spec["setting"]
    threads = int(spec.get("threads", 1))
    if spec["library"] == "lightfm":
        model = LightFM(no_components=spec["dim"], loss=spec["loss"], random_state=spec["seed"], **setting)
        going = True
        while going:
            t0 = time.perf_counter()
            model.fit_partial(coo, epochs=1, num_threads=threads)
            clock["trained"] += time.perf_counter() - t0
            clock["epochs"] += 1
            going = evaluate(model.user_embeddings, model.item_embeddings, model.item_biases)
    else:
        from implicit.cpu.als import AlternatingLeastSquares
        from implicit.cpu.bpr import BayesianPersonalizedRanking
        from threadpoolctl import threadpool_limits

        common = dict(factors=spec["dim"], iterations=1_000_000, num_threads=threads, random_state=spec["seed"])
        if spec["loss"] == "als":
            model = AlternatingLeastSquares(calculate_training_loss=False, **common, **setting)
        else:
            model = BayesianPersonalizedRanking(**common, **setting)
        last = [0.0]

        class Done(Exception):
            pass

        def callback(*_):
            clock["trained"] += time.perf_counter() - last[0]
            clock["epochs"] += 1
            # implicit's BPR keeps its item bias as the last factor (users hold 1 there): a dot product scores it
            if not evaluate(model.user_factors, model.item_factors, np.zeros(model.item_factors.shape[0], dtype=np.float32)):
                raise Done()
            last[0] = time.perf_counter()

        with threadpool_limits(threads):
            last[0] = time.perf_counter()
            try:
                model.fit(train, show_progress=False, callback=callback)
            except Done:
                pass
    epochs = clock["epochs"]
    trained = clock["trained"]
    print(json.dumps({"curve": curve, "images": len(cases), "epochs": epochs, "secondsPerEpoch": trained / epochs}))


if __name__ == "__main__":
    main(sys.argv[1])
