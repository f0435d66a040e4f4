#!/usr/bin/env python3
"""Generates src/fhir/data/search_parameters.json from the official FHIR R4
definitions (search-parameters.json; profiles-resources.json for the list of
resource types and, with valuesets.json, the implicit code systems of token
parameters over required-bound code elements).

Usage:
  tools/gen_search_params.py [--shared DIR] [--out FILE] [--check]

The output is compact and deterministic (parameters sorted by id, one per
line, keys sorted) so that regenerating gives a byte-identical file and a
diff shows real changes. --check regenerates in memory and exits 1 if FILE
differs. See docs/search-parameters.md for the format.

Python 3 standard library only.
"""

import argparse
import json
import os
import re
import sys

CANONICAL_BASE = "http://hl7.org/fhir/SearchParameter/"
ABSTRACT_BASES = ("Resource", "DomainResource")


def fail(message):
    sys.stderr.write("gen_search_params: " + message + "\n")
    sys.exit(1)


def load_bundle(path):
    with open(path, encoding="utf-8") as f:
        bundle = json.load(f)
    if bundle.get("resourceType") != "Bundle":
        fail(path + " is not a Bundle")
    return [e["resource"] for e in bundle.get("entry", []) if "resource" in e]


def resource_types(profiles_path):
    """Concrete resource type name -> its parent (Resource or DomainResource)."""
    types = {}
    for sd in load_bundle(profiles_path):
        if sd.get("resourceType") != "StructureDefinition":
            continue
        if sd.get("kind") != "resource" or sd.get("derivation") == "constraint":
            continue
        if sd.get("abstract"):
            continue
        parent = sd.get("baseDefinition", "").rsplit("/", 1)[-1]
        if parent not in ABSTRACT_BASES:
            fail("resource %s has unexpected base %r" % (sd["id"], parent))
        types[sd["type"]] = parent
    return types


def code_system_of_valuesets(valuesets_path):
    """ValueSet URL -> the one CodeSystem all of its codes come from, for the
    value sets that include codes of exactly one system (and no other value
    set)."""
    out = {}
    for vs in load_bundle(valuesets_path):
        if vs.get("resourceType") != "ValueSet":
            continue
        includes = vs.get("compose", {}).get("include", [])
        systems = {i.get("system") for i in includes}
        if len(systems) != 1 or None in systems or any(i.get("valueSet") for i in includes):
            continue
        out[vs["url"]] = systems.pop()
    return out


def bound_code_elements(profiles_path):
    """Element path -> CodeSystem URL's value set, for elements of type code
    with a required binding ("Patient.gender" -> its ValueSet URL)."""
    out = {}
    for sd in load_bundle(profiles_path):
        if sd.get("resourceType") != "StructureDefinition":
            continue
        if sd.get("kind") != "resource" or sd.get("derivation") == "constraint":
            continue
        for el in sd.get("snapshot", {}).get("element", []):
            if [t.get("code") for t in el.get("type", [])] != ["code"]:
                continue
            binding = el.get("binding", {})
            if binding.get("strength") != "required" or not binding.get("valueSet"):
                continue
            out[el["path"]] = binding["valueSet"].split("|")[0]
    return out


SIMPLE_PATH = re.compile(r"[A-Z][A-Za-z]+(\.[a-z][A-Za-z]*)+")


def implicit_systems(sp, bound, vs_systems):
    """For a token parameter: resource type -> the CodeSystem its values have
    implicitly, where the expression for that type is a plain path to a code
    element with a required binding to a single-system value set."""
    if sp["type"] != "token" or not sp.get("expression"):
        return {}
    out = {}
    for part in sp["expression"].split("|"):
        part = part.strip()
        if not SIMPLE_PATH.fullmatch(part):
            continue
        system = vs_systems.get(bound.get(part, ""))
        if system:
            out[part.split(".")[0]] = system
    return out


def compact_param(sp, by_url, any_target, bound=None, vs_systems=None):
    out = {
        "id": sp["id"],
        "code": sp["code"],
        "type": sp["type"],
        "base": sorted(sp["base"]),
    }
    if sp["url"] != CANONICAL_BASE + sp["id"]:
        out["url"] = sp["url"]
    if sp.get("name", sp["code"]) != sp["code"]:
        out["name"] = sp["name"]
    if sp.get("expression"):
        out["expression"] = sp["expression"]
    for key in ("target", "modifier", "comparator"):
        if sp.get(key):
            out[key] = sorted(sp[key])
    # 80 reference parameters may point at any resource; the spec spells that
    # out as every type but Parameters. Say it once (anyTarget) and write "*".
    if out.get("target") == any_target:
        out["target"] = "*"
    for key in ("multipleOr", "multipleAnd"):
        if key in sp:
            out[key] = bool(sp[key])
    if sp.get("xpathUsage", "normal") != "normal":
        out["xpathUsage"] = sp["xpathUsage"]
    implicit = implicit_systems(sp, bound or {}, vs_systems or {})
    if implicit:
        out["implicitSystem"] = dict(sorted(implicit.items()))
    if sp.get("component"):
        components = []
        # Component order is the order of the composite's "$"-separated values.
        for c in sp["component"]:
            target = by_url.get(c["definition"])
            if target is None:
                fail("%s: component definition %s is not defined" % (sp["id"], c["definition"]))
            components.append({
                "definition": c["definition"],
                "code": target["code"],
                "type": target["type"],
                "expression": c["expression"],
            })
        out["component"] = components
    return out


def generate(shared):
    r4 = os.path.join(shared, "fhir-r4")
    params = [r for r in load_bundle(os.path.join(r4, "search-parameters.json"))
              if r.get("resourceType") == "SearchParameter"]
    by_url = {p["url"]: p for p in params}
    types = resource_types(os.path.join(r4, "profiles-resources.json"))

    seen = {}
    for p in params:
        for base in p["base"]:
            if base not in types and base not in ABSTRACT_BASES:
                fail("%s: base %s is not a resource type" % (p["id"], base))
            key = (base, p["code"])
            if key in seen:
                fail("%s and %s both define %s.%s" % (seen[key], p["id"], base, p["code"]))
            seen[key] = p["id"]

    any_target = sorted(t for t in types if t != "Parameters")
    bound = bound_code_elements(os.path.join(r4, "profiles-resources.json"))
    vs_systems = code_system_of_valuesets(os.path.join(r4, "valuesets.json"))
    compact = sorted((compact_param(p, by_url, any_target, bound, vs_systems) for p in params),
                     key=lambda p: p["id"])

    def dump(v):
        return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    lines = ['{"fhirVersion":"4.0.1",',
             '"source":"fhir-r4/search-parameters.json (R4 4.0.1); generated by '
             'tools/gen_search_params.py, do not edit",',
             '"resourceTypes":' + dump(dict(sorted(types.items()))) + ",",
             '"anyTarget":' + dump(any_target) + ",",
             '"params":[']
    lines += [dump(p) + ("," if i + 1 < len(compact) else "") for i, p in enumerate(compact)]
    lines.append("]}")
    return "\n".join(lines) + "\n", len(compact), len(types)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", default=os.path.join(os.path.dirname(root), "shared"),
                        help="the shared data folder (default: ../shared beside the repo)")
    parser.add_argument("--out", default=os.path.join(root, "src/fhir/data/search_parameters.json"))
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if --out is not what this script would write")
    args = parser.parse_args()

    text, n_params, n_types = generate(args.shared)
    if args.check:
        try:
            with open(args.out, encoding="utf-8") as f:
                current = f.read()
        except OSError:
            current = None
        if current != text:
            sys.stderr.write("%s is out of date; run tools/gen_search_params.py\n" % args.out)
            return 1
        return 0
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    sys.stderr.write("wrote %s: %d parameters, %d resource types, %d bytes\n"
                     % (args.out, n_params, n_types, len(text.encode("utf-8"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
