#!/usr/bin/env python3
"""Splits NDJSON (e.g. from `crs gen`) into transaction Bundles of PUTs and
writes a sample of search values for the search benchmark.

usage: ndjson_to_bundles.py IN.ndjson OUTDIR [PER_BUNDLE]
OUTDIR gets bundle-NNNNNN.json and queries.tsv (nhs, family, birthDate).
"""
import json, os, sys


def main():
    src, outdir = sys.argv[1], sys.argv[2]
    per = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    os.makedirs(outdir, exist_ok=True)
    entries, n, samples = [], 0, []

    def flush():
        nonlocal entries, n
        if entries:
            with open(os.path.join(outdir, "bundle-%06d.json" % n), "w") as f:
                json.dump({"resourceType": "Bundle", "type": "transaction", "entry": entries}, f)
            n += 1
            entries = []

    for line in open(src):
        r = json.loads(line)
        entries.append({"resource": r, "request": {"method": "PUT",
                        "url": "%s/%s" % (r["resourceType"], r["id"])}})
        if r["resourceType"] == "Patient" and len(samples) < 20000 and r.get("birthDate"):
            fam = next((nm.get("family") for nm in r.get("name", []) if nm.get("use") != "old"), None)
            if fam:
                samples.append("%s\t%s\t%s" % (r["id"], fam, r["birthDate"]))
        if len(entries) >= per:
            flush()
    flush()
    with open(os.path.join(outdir, "queries.tsv"), "w") as f:
        f.write("\n".join(samples) + "\n")


if __name__ == "__main__":
    main()
