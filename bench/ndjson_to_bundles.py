#!/usr/bin/env python3
"""Splits NDJSON (e.g. from `crs gen`) into transaction Bundles of PUTs and
writes a sample of search values for the search benchmark.

usage: ndjson_to_bundles.py IN.ndjson OUTDIR [PER_BUNDLE] [--queries-only]
OUTDIR gets bundle-NNNNNN.json and queries.tsv (nhs, family, birthDate);
with --queries-only, queries.tsv alone (for a population loaded otherwise).
"""
import json, os, random, sys


def main():
    args = [a for a in sys.argv[1:] if a != "--queries-only"]
    queries_only = len(args) != len(sys.argv) - 1
    src, outdir = args[0], args[1]
    per = int(args[2]) if len(args) > 2 else 1000
    os.makedirs(outdir, exist_ok=True)
    entries, n, samples = [], 0, []

    def flush():
        nonlocal entries, n
        if entries:
            with open(os.path.join(outdir, "bundle-%06d.json" % n), "w") as f:
                json.dump({"resourceType": "Bundle", "type": "transaction", "entry": entries}, f)
            n += 1
            entries = []

    rng = random.Random(1)
    patients = 0
    for line in open(src):
        if queries_only and '"resourceType":"Patient"' not in line:
            continue
        r = json.loads(line)
        if not queries_only:
            entries.append({"resource": r, "request": {"method": "PUT",
                        "url": "%s/%s" % (r["resourceType"], r["id"])}})
        if r["resourceType"] == "Patient" and r.get("birthDate"):
            fam = next((nm.get("family") for nm in r.get("name", []) if nm.get("use") != "old"), None)
            if fam:
                # A uniform sample of 20,000 patients (reservoir sampling).
                patients += 1
                row = "%s\t%s\t%s" % (r["id"], fam, r["birthDate"])
                if len(samples) < 20000:
                    samples.append(row)
                else:
                    k = rng.randrange(patients)
                    if k < 20000:
                        samples[k] = row
        if len(entries) >= per:
            flush()
    flush()
    with open(os.path.join(outdir, "queries.tsv"), "w") as f:
        f.write("\n".join(samples) + "\n")


if __name__ == "__main__":
    main()
