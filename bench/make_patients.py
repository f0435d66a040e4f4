#!/usr/bin/env python3
"""Writes transaction Bundles of synthetic Patients for the benchmarks.

usage: make_patients.py COUNT OUTDIR [PER_BUNDLE]
Ids are bench-000001 ... so read/update scripts can pick them at random.
Deterministic (seeded), stdlib only.
"""
import json, os, random, sys

FAMILIES = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
            "Patel", "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts"]
GIVEN = ["Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Noah", "Mia", "Jack", "Ivy",
         "Leo", "Lily", "Arthur", "Freya", "Muhammad", "Grace"]


def patient(i, rnd):
    pid = "bench-%06d" % i
    fam = rnd.choice(FAMILIES)
    return {
        "resourceType": "Patient", "id": pid,
        "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": str(9990000000 + i)}],
        "active": True,
        "name": [{"use": "official", "family": fam, "given": [rnd.choice(GIVEN), rnd.choice(GIVEN)],
                  "prefix": [rnd.choice(["Mr", "Mrs", "Ms", "Dr"])]},
                 {"use": "maiden", "family": rnd.choice(FAMILIES), "period": {"end": "2001-06-01"}}],
        "telecom": [{"system": "phone", "value": "0113 496 %04d" % rnd.randrange(10000), "use": "home"},
                    {"system": "email", "value": "%s.%d@example.org" % (fam.lower(), i)}],
        "gender": rnd.choice(["male", "female"]),
        "birthDate": "%04d-%02d-%02d" % (rnd.randrange(1925, 2024), rnd.randrange(1, 13), rnd.randrange(1, 29)),
        "address": [{"use": "home", "line": ["%d Example Road" % rnd.randrange(1, 200)], "city": "Leeds",
                     "district": "West Yorkshire", "postalCode": "LS%d %dAB" % (rnd.randrange(1, 30), rnd.randrange(1, 10)),
                     "country": "GB", "period": {"start": "2010-01-01"}}],
        "maritalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus",
                                      "code": "M", "display": "Married"}]},
        "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "en-GB"}]},
                           "preferred": True}],
        "generalPractitioner": [{"reference": "Organization/Y12345",
                                 "identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code",
                                                "value": "Y12345"}}],
    }


def main():
    count, outdir = int(sys.argv[1]), sys.argv[2]
    per = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    os.makedirs(outdir, exist_ok=True)
    rnd = random.Random(42)
    for start in range(1, count + 1, per):
        entries = []
        for i in range(start, min(start + per, count + 1)):
            p = patient(i, rnd)
            entries.append({"resource": p, "request": {"method": "PUT", "url": "Patient/" + p["id"]}})
        with open(os.path.join(outdir, "bundle-%06d.json" % start), "w") as f:
            json.dump({"resourceType": "Bundle", "type": "transaction", "entry": entries}, f)
    with open(os.path.join(outdir, "patient.json"), "w") as f:
        json.dump(patient(count + 1, rnd), f)


if __name__ == "__main__":
    main()
