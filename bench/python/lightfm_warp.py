"""LightFM WARP on a leave-one-out split, as an external reference for the convergence benchmark.

Reads train (image<TAB>labels) and test (image<TAB>held-out label) files, trains LightFM's WARP
one epoch at a time up to a time budget, and after each epoch measures held-out P@5 and MAP with
the image's training labels filtered out (the same protocol as ours). Prints one JSON object.
"""
import json
import sys
import time

import numpy as np
import scipy.sparse as sp
from lightfm import LightFM


def main(train_path, test_path, dim, seed, budget, lr):
    images, labels = {}, {}
    rows, cols = [], []
    with open(train_path) as f:
        for line in f:
            img, _, labs = line.rstrip("\n").partition("\t")
            i = images.setdefault(img, len(images))
            for lab in labs.split():
                rows.append(i)
                cols.append(labels.setdefault(lab, len(labels)))
    test = []
    with open(test_path) as f:
        for line in f:
            img, _, lab = line.rstrip("\n").partition("\t")
            i = images.setdefault(img, len(images))
            test.append((i, labels.setdefault(lab, len(labels))))
    shape = (len(images), len(labels))
    train = sp.coo_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=shape).tocsr()
    model = LightFM(no_components=dim, loss="warp", learning_rate=lr, random_state=seed, max_sampled=len(labels) - 1)
    trained, curve = 0.0, []
    test_images = np.array([t[0] for t in test])
    test_labels = np.array([t[1] for t in test])
    while trained < budget:
        t0 = time.perf_counter()
        model.fit_partial(train, epochs=1, num_threads=1)
        trained += time.perf_counter() - t0
        scores = model.user_embeddings[test_images] @ model.item_embeddings.T + model.item_biases[None, :]
        mask = train[test_images].toarray() > 0
        scores[mask] = -np.inf
        target = scores[np.arange(len(test)), test_labels]
        ranks = 1 + (scores > target[:, None]).sum(axis=1)
        curve.append([round(trained, 5), round(float((ranks <= 5).mean() / 5), 5), round(float((1.0 / ranks).mean()), 5)])
    best = max(curve, key=lambda c: c[1])
    print(json.dumps({"bestP5": best[1], "bestMap": max(c[2] for c in curve), "secondsToBest": best[0],
                      "epochs": len(curve), "learningRate": lr, "curve": curve}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]))
