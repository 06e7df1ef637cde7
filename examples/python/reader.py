"""A downstream reader of freshet snapshots in Python, written from docs/wire-format.md alone.

Finds the newest complete snapshot through the compacted manifests topic (no scan of the snapshot
topic), reads exactly the chunks its manifest lists (a delta's: its chain's too, the base first),
checks their CRC-32, assembles the version, and answers nearest-neighbour queries: words by
cosine, labels of an image by image . label + bias.

    pip install -r examples/python/requirements.txt
    python examples/python/reader.py --brokers localhost:9092 --neighbours whale ship --labels-of 42

Prints one JSON object: the version, counts, the seconds it took, and the answers.
"""
import argparse
import hashlib
import io
import json
import struct
import sys
import time
import uuid
import zlib
from pathlib import Path

import fastavro
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def schema_id(text):
    """The local schema id rule: SHA-256 of the schema's whitespace-free JSON, first 4 bytes, 31 bits."""
    canonical = json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode("utf-8")).digest()
    return (int.from_bytes(digest[:4], "big") & 0x7FFFFFFF) or 1


def load_schemas(folder):
    """Every .avsc by id (writers), and the newest version of each record type (readers)."""
    writers, newest = {}, {}
    for path in sorted(folder.glob("*.avsc")):
        name, version = path.name[: -len(".avsc")].rsplit(".v", 1)
        text = path.read_text(encoding="utf-8")
        parsed = fastavro.parse_schema(json.loads(text))
        writers[schema_id(text)] = parsed
        if name not in newest or newest[name][0] < int(version):
            newest[name] = (int(version), parsed)
    return writers, {name: parsed for name, (_, parsed) in newest.items()}


class Decoder:
    def __init__(self, folder, registry_url=None):
        self.writers, self.readers = load_schemas(folder)
        self.registry_url = registry_url

    def decode(self, value, record_type):
        if not value or value[0] != 0 or len(value) < 5:
            raise ValueError("not in the Confluent wire format")
        (sid,) = struct.unpack(">i", value[1:5])
        writer = self.writers.get(sid)
        if writer is None:
            raise ValueError(f"unknown schema id {sid} (with a Schema Registry, fetch GET /schemas/ids/{sid})")
        return fastavro.schemaless_reader(io.BytesIO(value[5:]), writer, self.readers[record_type])


def read_partition(config, topic, start, stop_inclusive):
    """Records [start, stop_inclusive] of partition 0, by assignment (no consumer group membership)."""
    consumer = Consumer({**config, "group.id": f"freshet-py-{uuid.uuid4()}", "enable.auto.commit": False})
    try:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        if start is None:
            start, stop_inclusive = low, high - 1
        if stop_inclusive < start:
            return []
        consumer.assign([TopicPartition(topic, 0, start if start >= 0 else OFFSET_BEGINNING)])
        out, deadline = [], time.time() + 30
        while time.time() < deadline:
            msg = consumer.poll(0.5)
            if msg is None or msg.error():
                continue
            if msg.offset() > stop_inclusive:
                break
            out.append(msg)
            if msg.offset() >= stop_inclusive:
                break
        return out
    finally:
        consumer.close()


def latest_snapshot(config, prefix, decoder):
    """The newest complete version: whole (key 'latest') or a delta (key 'latest-delta') with its chain."""
    manifests = read_partition(config, prefix + "freshet.embeddings.manifests", None, None)
    pointers = [decoder.decode(m.value(), "snapshot-manifest") for m in manifests if m.key() in (b"latest", b"latest-delta") and m.value()]
    if not pointers:
        return None
    manifest = max(pointers, key=lambda m: m["version"])
    own = {"version": manifest["version"], "chunks": manifest["chunks"], "checksums": manifest["checksums"], "chunkOffsets": manifest["chunkOffsets"]}
    # a delta: the base first, then every delta in order, then this version's own chunks
    links = (manifest.get("chain") or []) + [own] if manifest.get("base", 0) > 0 else [own]
    if any(len(link["chunkOffsets"]) != link["chunks"] for link in links):
        raise ValueError("manifest without chunk offsets (written before manifest v2): scan the snapshot topic instead")
    offsets = [o for link in links for o in link["chunkOffsets"]]
    records = read_partition(config, prefix + "freshet.embeddings.snapshots", min(offsets), max(offsets)) if offsets else []
    by_version = {}
    for msg in records:
        by_version.setdefault(msg.key(), []).append(msg.value())
    entities = {}
    for link in links:
        chunks = {}
        for value in by_version.get(f"v{link['version']}".encode(), []):
            chunk = decoder.decode(value, "snapshot-chunk")
            if zlib.crc32(value) != link["checksums"][chunk["chunk"]]:
                raise ValueError(f"chunk {chunk['chunk']} of version {link['version']} fails its CRC-32")
            chunks[chunk["chunk"]] = chunk
        if len(chunks) != link["chunks"]:
            raise ValueError(f"version {link['version']}: {len(chunks)} of {link['chunks']} chunks found")
        for index in sorted(chunks):
            c = chunks[index]
            kind = entities.setdefault(c["kind"], {})
            dim, n = c["dim"], len(c["ids"])
            floats = struct.unpack(f"<{n * dim}f", c["vectors"])
            biases = struct.unpack(f"<{n}f", c["biases"]) if len(c["biases"]) == 4 * n else (0.0,) * n
            zero_shot = set(c.get("zeroShot") or [])  # chunk v4: labels synthesised from their words
            for j, entity in enumerate(c["ids"]):
                kind[entity] = (floats[j * dim : (j + 1) * dim], biases[j], entity in zero_shot)
            for entity in c.get("deleted") or []:
                kind.pop(entity, None)
    tables = {}
    for kind, rows in entities.items():
        tables[kind] = {
            "ids": list(rows),
            "vectors": [v for v, _, _ in rows.values()],
            "biases": [b for _, b, _ in rows.values()],
            "zeroShot": {name for name, (_, _, z) in rows.items() if z},
        }
    return manifest, tables


def dot(a, b):
    return sum(x * y for x, y in zip(a, b))


def nearest(tables, source, entity, target, count):
    """Cosine within a kind; image . label + bias from images to labels. None: the snapshot does not hold the entity."""
    src, dst = tables.get(source), tables.get(target)
    if src is None or dst is None or entity not in src["ids"]:
        return None
    row = src["ids"].index(entity)
    query = src["vectors"][row]
    qn = dot(query, query) ** 0.5 or 1.0
    scored = []
    for r, (name, vector) in enumerate(zip(dst["ids"], dst["vectors"])):
        if source == target:
            if r == row:
                continue
            score = dot(query, vector) / (qn * (dot(vector, vector) ** 0.5 or 1.0))
        else:
            score = dot(query, vector) + dst["biases"][r]
        scored.append((score, name))
    scored.sort(key=lambda s: -s[0])
    # a zero-shot label (no image has carried it; its vector comes from its words) says so
    return [{"id": name, "score": score, **({"zeroShot": True} if name in dst["zeroShot"] else {})} for score, name in scored[:count]]


def names(values):
    """Names given as separate arguments or as comma lists: whale sea, or whale,sea."""
    return [n for v in values for n in v.split(",") if n]


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--brokers", required=True)
    p.add_argument("--topic-prefix", default="")
    # names separated by spaces or commas, as the freshet CLI takes them
    p.add_argument("--neighbours", nargs="*", default=[])
    p.add_argument("--labels-of", nargs="*", default=[])
    p.add_argument("--count", type=int, default=8)
    p.add_argument("--schemas", default=str(SCHEMAS))
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    found = latest_snapshot({"bootstrap.servers": args.brokers}, args.topic_prefix, Decoder(Path(args.schemas)))
    seconds = time.perf_counter() - t0
    if found is None:
        print(json.dumps({"error": "no snapshot published yet"}))
        return 1
    manifest, tables = found
    neighbours = {w: nearest(tables, "WORD", w, "WORD", args.count) for w in names(args.neighbours)}
    labels_of = {i: nearest(tables, "IMAGE", i, "LABEL", args.count) for i in names(args.labels_of)}
    unknown = {"words": [w for w, a in neighbours.items() if a is None], "images": [i for i, a in labels_of.items() if a is None]}
    for kind, ids in (("WORD", unknown["words"]), ("IMAGE", unknown["images"])):
        if ids:
            print(f"reader.py: version {manifest['version']} holds no {kind} {', '.join(map(json.dumps, ids))}", file=sys.stderr)
    out = {
        "version": manifest["version"],
        "counts": {kind: len(t["ids"]) for kind, t in tables.items()},
        "readSeconds": seconds,
        "neighbours": neighbours,
        "labelsOf": labels_of,
    }
    if unknown["words"] or unknown["images"]:
        out["unknown"] = unknown
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
