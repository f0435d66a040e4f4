#!/usr/bin/env python3
"""Writes src/fhir/data/compartment_patient.json from the official
CompartmentDefinition/patient in ../shared/fhir-r4/profiles-resources.json:
for each resource type in the Patient compartment, the search parameters that
link it to the patient. Deterministic; run with no arguments to regenerate.
"""
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
src = os.path.join(here, "..", "..", "shared", "fhir-r4", "profiles-resources.json")
dst = os.path.join(here, "..", "src", "fhir", "data", "compartment_patient.json")


def main():
    bundle = json.load(open(sys.argv[1] if len(sys.argv) > 1 else src))
    for e in bundle["entry"]:
        r = e["resource"]
        if r["resourceType"] == "CompartmentDefinition" and r["code"] == "Patient":
            links = {x["code"]: sorted(x["param"]) for x in r["resource"] if x.get("param")}
            out = {"url": r["url"], "links": dict(sorted(links.items()))}
            with open(dst, "w") as f:
                json.dump(out, f, sort_keys=True, separators=(",", ":"))
                f.write("\n")
            return
    sys.exit("CompartmentDefinition/patient not found")


if __name__ == "__main__":
    main()
