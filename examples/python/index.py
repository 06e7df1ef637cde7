"""A nearest-neighbour index in Python kept fresh from freshet's latest-vector topic.

The compacted latest-vector topic is an upsert stream: key `<KIND>:<id>`, value the entity's
latest vector (Avro, Confluent wire format), or no value (a tombstone) once the entity is deleted.
This reads it from the start (every partition, by assignment: no consumer group), keeps one
usearch HNSW index per kind (cosine), and keeps applying what arrives for --follow-seconds; then
it answers the queries `freshet serve` answers: the words nearest a word, the top labels of an
image (image . label + bias, exact). Small kinds are searched exactly, as `freshet serve` does.

    pip install -r examples/python/requirements.txt
    python examples/python/index.py --brokers localhost:9092 --neighbours whale ship --labels-of 42

Prints one JSON object: the entities held per kind, the newest version and watermark applied,
the records applied and deleted, and the answers.
"""
import argparse
import json
import sys
import time
import uuid
from pathlib import Path

import numpy as np
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from usearch.index import Index

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reader import SCHEMAS, Decoder, names  # noqa: E402

EXACT_BELOW = 50_000


class KindIndex:
    """One kind's latest vectors by slot, and an HNSW index over them (keys are slots)."""

    def __init__(self, dim):
        self.dim = dim
        self.slots, self.ids, self.free = {}, [], []
        self.vectors = np.zeros((1024, dim), dtype=np.float32)
        self.biases = np.zeros(1024, dtype=np.float32)
        self.index = Index(ndim=dim, metric="cos", connectivity=16, expansion_add=128, expansion_search=64)

    def upsert(self, entity, vector, bias):
        slot = self.slots.get(entity)
        if slot is None:
            slot = self.free.pop() if self.free else len(self.ids)
            if slot == len(self.ids):
                self.ids.append(entity)
            else:
                self.ids[slot] = entity
            if slot >= len(self.vectors):
                self.vectors = np.concatenate([self.vectors, np.zeros_like(self.vectors)])
                self.biases = np.concatenate([self.biases, np.zeros_like(self.biases)])
            self.slots[entity] = slot
        else:
            self.index.remove(slot)
        self.vectors[slot] = vector
        self.biases[slot] = bias
        self.index.add(slot, vector)

    def delete(self, entity):
        slot = self.slots.pop(entity, None)
        if slot is None:
            return False
        self.index.remove(slot)
        self.ids[slot] = None
        self.free.append(slot)
        return True

    def nearest(self, query, k, exclude=(), with_bias=False):
        """Cosine (or dot + bias with with_bias), highest first, leaving out `exclude`."""
        live = [s for s, e in enumerate(self.ids) if e is not None and e not in exclude]
        if with_bias or len(self.slots) < EXACT_BELOW:
            rows = self.vectors[live].astype(np.float64)
            q = np.asarray(query, dtype=np.float64)
            if with_bias:
                scores = rows @ q + self.biases[live].astype(np.float64)
            else:
                norms = np.sqrt((rows * rows).sum(axis=1))
                norms[norms == 0] = 1.0
                scores = (rows @ q) / ((np.sqrt(q @ q) or 1.0) * norms)
            order = np.argsort(-scores, kind="stable")[:k]
            return [{"id": self.ids[live[j]], "score": float(scores[j])} for j in order]
        found = self.index.search(np.asarray(query, dtype=np.float32), k + len(exclude))
        out = []
        for key, distance in zip(found.keys, found.distances):
            entity = self.ids[int(key)]
            if entity is not None and entity not in exclude and len(out) < k:
                out.append({"id": entity, "score": 1.0 - float(distance)})
        return out


def follow(config, topic, decoder, follow_seconds):
    """Reads the topic from the start to its current end, then follow_seconds more; the indexes per kind."""
    consumer = Consumer({**config, "group.id": f"freshet-py-index-{uuid.uuid4()}", "enable.auto.commit": False})
    kinds, stats = {}, {"applied": 0, "deleted": 0, "version": 0, "watermark": 0}
    try:
        meta = consumer.list_topics(topic, timeout=10).topics[topic]
        parts = sorted(meta.partitions)
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in parts}
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts])
        behind = {p for p, end in ends.items() if end > 0}
        caught_up_at = time.time() if not behind else None
        while caught_up_at is None or time.time() < caught_up_at + follow_seconds:
            msg = consumer.poll(0.2)
            if msg is None or msg.error():
                continue
            kind, _, entity = msg.key().decode("utf-8").partition(":")
            if msg.value() is None:
                if kind in kinds and kinds[kind].delete(entity):
                    stats["deleted"] += 1
            else:
                rec = decoder.decode(msg.value(), "embedding-record")
                vector = np.frombuffer(rec["vector"], dtype="<f4", count=rec["dim"])
                kinds.setdefault(rec["kind"], KindIndex(rec["dim"])).upsert(rec["id"], vector, rec["bias"])
                stats["applied"] += 1
                stats["version"] = max(stats["version"], rec["version"])
                at = rec["updatedAt"]
                # fastavro reads timestamp-millis as a datetime
                stats["watermark"] = max(stats["watermark"], int(at.timestamp() * 1000) if hasattr(at, "timestamp") else at)
            if msg.partition() in behind and msg.offset() + 1 >= ends[msg.partition()]:
                behind.discard(msg.partition())
                if not behind:
                    caught_up_at = time.time()
        return kinds, stats
    finally:
        consumer.close()


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--brokers", required=True)
    p.add_argument("--topic-prefix", default="")
    p.add_argument("--neighbours", nargs="*", default=[])
    p.add_argument("--labels-of", nargs="*", default=[])
    p.add_argument("--count", type=int, default=8)
    p.add_argument("--follow-seconds", type=float, default=0.0)
    p.add_argument("--schemas", default=str(SCHEMAS))
    args = p.parse_args(argv)
    kinds, stats = follow({"bootstrap.servers": args.brokers}, args.topic_prefix + "freshet.embeddings.latest", Decoder(Path(args.schemas)), args.follow_seconds)
    words, images, labels = kinds.get("WORD"), kinds.get("IMAGE"), kinds.get("LABEL")

    def neighbours(w):
        if words is None or w not in words.slots:
            return None
        return words.nearest(words.vectors[words.slots[w]], args.count, exclude={w})

    def labels_of(i):
        if images is None or labels is None or i not in images.slots:
            return None
        return labels.nearest(images.vectors[images.slots[i]], args.count, with_bias=True)

    print(json.dumps({
        "counts": {k: len(v.slots) for k, v in kinds.items()},
        **stats,
        "neighbours": {w: neighbours(w) for w in names(args.neighbours)},
        "labelsOf": {i: labels_of(i) for i in names(args.labels_of)},
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
