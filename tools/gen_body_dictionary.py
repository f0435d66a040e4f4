#!/usr/bin/env python3
"""Writes src/store/data/body_dictionary.zdict: the zstd dictionary stored
resource bodies are compressed with (docs/storage.md, "Resource bodies").

Trained with the zstd CLI (Debian package `zstd`) on resources shaped as
the store keeps them (compact JSON, `meta.versionId` and `meta.lastUpdated`
stamped after `id`):
  - `crs gen --patients 4000 --seed 7 --records --observations 2`
    (Patients, practices, conditions, allergies, medications, vital signs);
  - every resource of the Synthea bundles in
    ../shared/synthea/smart-generated-sample-data-R4/;
  - the official examples in ../shared/fhir-r4-examples/.

A dictionary in use must never change: stored bodies name it by its id
(DICT_ID below, also store/body_codec.cc kDictionaryId). A better one gets a
new id and a new file, and the codec keeps reading frames of the old one.

Usage: tools/gen_body_dictionary.py [CRS_BINARY]   (default build/crs)
"""
import glob
import json
import os
import random
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.join(here, "..")
shared = os.path.join(root, "..", "shared")
dst = os.path.join(root, "src", "store", "data", "body_dictionary.zdict")
DICT_ID = 0x43525301  # "CRS\x01": above the ids zstd reserves (< 32768)
DICT_BYTES = 65536


def stamped(resource, rng):
    """The resource as the store writes it: meta first after id."""
    out = {"resourceType": resource["resourceType"]}
    if "id" in resource:
        out["id"] = resource["id"]
    meta = dict(resource.get("meta", {}))
    meta["versionId"] = str(rng.randint(1, 3))
    meta["lastUpdated"] = "2026-%02d-%02dT%02d:%02d:%02d.%03dZ" % (
        rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59),
        rng.randint(0, 59), rng.randint(0, 999))
    out["meta"] = meta
    for k, v in resource.items():
        if k not in out:
            out[k] = v
    return json.dumps(out, separators=(",", ":"), ensure_ascii=False)


def main():
    crs = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build", "crs")
    rng = random.Random(1)
    resources = []
    gen = subprocess.run([crs, "gen", "--patients", "4000", "--seed", "7", "--records",
                          "--observations", "2"], check=True, capture_output=True, text=True)
    resources += [json.loads(line) for line in gen.stdout.splitlines() if line]
    for path in sorted(glob.glob(os.path.join(shared, "synthea",
                                              "smart-generated-sample-data-R4", "*.json"))):
        resources += [e["resource"] for e in json.load(open(path)).get("entry", [])]
    for path in sorted(glob.glob(os.path.join(shared, "fhir-r4-examples", "*.json"))):
        try:
            resources.append(json.load(open(path)))
        except ValueError:
            continue
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i, r in enumerate(resources):
            name = os.path.join(tmp, "%06d.json" % i)
            with open(name, "w") as f:
                f.write(stamped(r, rng))
            files.append(name)
        subprocess.run(["zstd", "--train", "-q", "--maxdict=%d" % DICT_BYTES,
                        "--dictID=%d" % DICT_ID, "-o", dst, *files], check=True)
    print("%s: %d bytes from %d resources" % (dst, os.path.getsize(dst), len(resources)))


if __name__ == "__main__":
    main()
