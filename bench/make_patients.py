#!/usr/bin/env python3
"""Writes transaction Bundles of synthetic Patients for the benchmarks.

usage: make_patients.py COUNT OUTDIR [PER_BUNDLE] [--allergies]
Patient ids are NHS numbers (the i-th valid number of the test range, from
999 000 0001 up); OUTDIR/ids.txt lists them in order, one per line, so the wrk
scripts can pick them (CRS_BENCH_IDS).
With --allergies each Patient also gets one AllergyIntolerance, allergy-000001
... (same number), in the same Bundle (so a Bundle holds 2 x PER_BUNDLE
entries). Every Patient is registered at Organization/Y12345.
Deterministic (seeded), stdlib only.
"""
import json, os, random, sys

FAMILIES = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
            "Patel", "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts"]
GIVEN = ["Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Noah", "Mia", "Jack", "Ivy",
         "Leo", "Lily", "Arthur", "Freya", "Muhammad", "Grace"]


def nhs_numbers(count):
    """The first `count` valid NHS numbers of the test range, ascending."""
    out, first9 = [], 999000000
    while len(out) < count:
        total = sum(int(d) * w for d, w in zip(str(first9), range(10, 1, -1)))
        check = 11 - total % 11
        if check == 11:
            check = 0
        if check != 10:
            out.append("%d%d" % (first9, check))
        first9 += 1
    return out


IDS = []


def patient(i, rnd):
    pid = IDS[i - 1]
    fam = rnd.choice(FAMILIES)
    return {
        "resourceType": "Patient", "id": pid,
        "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": pid}],
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


ALLERGENS = [("91936005", "Allergy to penicillin"), ("300916003", "Latex allergy"),
             ("91935009", "Allergy to peanuts"), ("232350006", "House dust mite allergy")]


def allergy(i, rnd):
    code, display = rnd.choice(ALLERGENS)
    return {
        "resourceType": "AllergyIntolerance", "id": "allergy-%06d" % i,
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                                       "code": "active"}]},
        "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                                           "code": "confirmed"}]},
        "type": "allergy", "category": ["medication"], "criticality": "high",
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": code, "display": display}]},
        "patient": {"reference": "Patient/" + IDS[i - 1]},
        "recordedDate": "2015-03-0%d" % rnd.randrange(1, 10),
    }


def main():
    args = [a for a in sys.argv[1:] if a != "--allergies"]
    allergies = "--allergies" in sys.argv[1:]
    count, outdir = int(args[0]), args[1]
    per = int(args[2]) if len(args) > 2 else 1000
    os.makedirs(outdir, exist_ok=True)
    IDS.extend(nhs_numbers(count + 1))
    with open(os.path.join(outdir, "ids.txt"), "w") as f:
        f.write("\n".join(IDS[:count]) + "\n")
    rnd = random.Random(42)
    rnd_allergy = random.Random(7)  # separate, so the Patients match a run without --allergies
    for start in range(1, count + 1, per):
        entries = []
        for i in range(start, min(start + per, count + 1)):
            p = patient(i, rnd)
            entries.append({"resource": p, "request": {"method": "PUT", "url": "Patient/" + p["id"]}})
            if allergies:
                a = allergy(i, rnd_allergy)
                entries.append({"resource": a, "request": {"method": "PUT", "url": "AllergyIntolerance/" + a["id"]}})
        with open(os.path.join(outdir, "bundle-%06d.json" % start), "w") as f:
            json.dump({"resourceType": "Bundle", "type": "transaction", "entry": entries}, f)
    with open(os.path.join(outdir, "patient.json"), "w") as f:
        json.dump(patient(count + 1, rnd), f)


if __name__ == "__main__":
    main()
