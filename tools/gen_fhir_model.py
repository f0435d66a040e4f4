#!/usr/bin/env python3
"""Generates src/fhir/data/model.json, the compact FHIR R4 structure model.

Reads the official StructureDefinition bundles (profiles-resources.json and
profiles-types.json, FHIR 4.0.1) and keeps only what the validator and the
FHIRPath engine need: for every resource type and datatype its kind, base type
and the snapshot elements with their type codes, Reference/canonical target
type names, cardinality, content references and the isSummary flag (for
_summary=true); for primitives the regex of
the value and the FHIRPath System type the value maps to.

Usage: tools/gen_fhir_model.py [--shared DIR] [--out FILE] [--check]
  With no arguments reads ../shared/fhir-r4 (beside the repository) and writes
  src/fhir/data/model.json. Output is deterministic (sorted keys, snapshot
  element order, one element per line so that diffs stay readable). With
  --check, writes nothing and exits 1 when FILE differs from what it would write
  (model_test.cc runs this).

Choices (see docs/validation.md):
  * Included: kind resource / complex-type / primitive-type that are
    specializations or the abstract roots (Resource, Element), plus the
    constrained datatypes defined in the core (SimpleQuantity, MoneyQuantity),
    which are stored under their own name with base Quantity. Logical models
    (MetadataResource) are skipped.
  * The root element (path == type name) and each primitive's `.value` element
    are not stored; the value's regex goes on the type instead. Elements with
    max "0" (SimpleQuantity.comparator, xhtml.extension) are dropped: they may
    not appear at all.
  * R4 gives Element.id, Resource.id, Extension.url and the primitive values a
    FHIRPath System type code (http://hl7.org/fhirpath/System.String, ...).
    Such a code is replaced by the FHIR type named in the type's
    structuredefinition-fhir-type extension ("string" for ids, "uri" for
    Extension.url), else by the lower-case System name ("String" -> "string",
    "DateTime" -> "dateTime"), and the element is flagged "system": true (it
    is a plain value: in JSON it can carry no `_name` extension sibling).
  * A primitive's "system" is the FHIRPath System type of its value, inherited
    from the base primitive when the type is derived (positiveInt -> integer ->
    Integer), because R4 types some derived values as System.String.
"""

import argparse
import json
import os
import sys

FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
REGEX_EXT = "http://hl7.org/fhir/StructureDefinition/regex"
SYSTEM_PREFIX = "http://hl7.org/fhirpath/System."
FORMAT_VERSION = 1


def last_segment(url):
    return url.rsplit("/", 1)[-1]


def ext_value(type_entry, url):
    for ext in type_entry.get("extension", []):
        if ext.get("url") == url:
            for key, value in ext.items():
                if key.startswith("value"):
                    return value
    return None


def lower_first(name):
    return name[:1].lower() + name[1:]


def normalise_type(type_entry):
    """Returns (type code, is_system) for one ElementDefinition.type entry."""
    code = type_entry["code"]
    if not code.startswith(SYSTEM_PREFIX):
        return code, False
    fhir_type = ext_value(type_entry, FHIR_TYPE_EXT)
    if fhir_type:
        return last_segment(fhir_type), True
    return lower_first(code[len(SYSTEM_PREFIX):]), True


def load_structure_definitions(shared):
    sds = []
    for name in ("profiles-types.json", "profiles-resources.json"):
        with open(os.path.join(shared, name), encoding="utf-8") as f:
            bundle = json.load(f)
        for entry in bundle.get("entry", []):
            res = entry.get("resource", {})
            if res.get("resourceType") == "StructureDefinition":
                sds.append(res)
    return sds


def wanted(sd):
    kind = sd.get("kind")
    if kind not in ("resource", "complex-type", "primitive-type"):
        return False  # logical models
    derivation = sd.get("derivation")
    if derivation is None:
        return True  # the abstract roots Resource and Element
    if derivation == "specialization":
        return True
    # Constrained datatypes of the core spec (SimpleQuantity, MoneyQuantity).
    return kind == "complex-type" and sd.get("url", "").startswith(
        "http://hl7.org/fhir/StructureDefinition/")


def convert_elements(sd, name):
    """Returns (elements, value_type_entry) for one StructureDefinition."""
    # Constraint profiles keep their base type's paths ("Quantity.value" in
    # SimpleQuantity); store them under the profile's own name.
    root = sd["type"]
    elements = []
    value_type = None
    snapshot = sd["snapshot"]["element"]
    for el in snapshot:
        path = el["path"]
        if path == root:
            continue
        if "sliceName" in el:
            continue
        if sd["kind"] == "primitive-type" and path == root + ".value":
            value_type = el["type"][0]
            continue
        if el.get("max") == "0":
            continue
        rel = path[len(root):]
        out = {"path": name + rel}
        types = []
        targets = []
        system = False
        for ty in el.get("type", []):
            code, is_system = normalise_type(ty)
            system = system or is_system
            if code not in types:
                types.append(code)
            for target in ty.get("targetProfile", []):
                target_name = last_segment(target)
                if target_name not in targets:
                    targets.append(target_name)
        if types:
            out["types"] = types
        if targets:
            out["targets"] = targets
        if system:
            out["system"] = True
        if el.get("min", 0):
            out["min"] = el["min"]
        if el.get("max", "1") not in ("0", "1"):
            out["many"] = True
        if el.get("isSummary"):
            out["summary"] = True
        ref = el.get("contentReference")
        if ref:
            ref = ref[1:] if ref.startswith("#") else ref
            if root != name and ref.startswith(root + "."):
                ref = name + ref[len(root):]
            out["contentRef"] = ref
        elements.append(out)
    return elements, value_type


def build_model(sds):
    types = {}
    value_types = {}
    for sd in sds:
        if not wanted(sd):
            continue
        name = sd["id"]
        elements, value_type = convert_elements(sd, name)
        entry = {"kind": sd["kind"], "elements": elements}
        base = sd.get("baseDefinition")
        if base:
            entry["base"] = last_segment(base)
        if sd.get("abstract"):
            entry["abstract"] = True
        if sd.get("derivation") == "constraint":
            entry["constraint"] = True
        if value_type is not None:
            value_types[name] = value_type
            regex = ext_value(value_type, REGEX_EXT)
            if regex:
                entry["regex"] = regex
        if name in types:
            raise SystemExit(f"duplicate type {name}")
        types[name] = entry

    # FHIRPath System type of each primitive's value (see module docstring).
    def system_of(name):
        entry = types[name]
        base = entry.get("base")
        if base in types and types[base]["kind"] == "primitive-type":
            return system_of(base)
        code = value_types[name]["code"]
        return code[len(SYSTEM_PREFIX):] if code.startswith(SYSTEM_PREFIX) else "String"

    for name, entry in types.items():
        if entry["kind"] == "primitive-type":
            entry["system"] = system_of(name)
    return types


def dump(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def render(types, fhir_version):
    out = ['{"fhirVersion":%s,"format":%d,"types":{' % (dump(fhir_version), FORMAT_VERSION)]
    names = sorted(types)
    for i, name in enumerate(names):
        entry = types[name]
        parts = []
        for key in sorted(entry):
            if key == "elements":
                rows = ",\n".join(dump(e) for e in entry[key])
                parts.append('"elements":[\n%s\n]' % rows if rows else '"elements":[]')
            else:
                parts.append("%s:%s" % (dump(key), dump(entry[key])))
        out.append("%s:{%s}%s" % (dump(name), ",".join(parts), "," if i + 1 < len(names) else ""))
    out.append("}}")
    return "\n".join(out) + "\n"


def main(argv):
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", default=os.path.join(repo, "..", "shared", "fhir-r4"),
                        help="folder holding profiles-{resources,types}.json")
    parser.add_argument("--out", default=os.path.join(repo, "src", "fhir", "data", "model.json"))
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if --out is not what the generator would write")
    args = parser.parse_args(argv)

    sds = load_structure_definitions(args.shared)
    versions = {sd.get("fhirVersion") for sd in sds if sd.get("fhirVersion")}
    if len(versions) != 1:
        raise SystemExit(f"expected one fhirVersion, found {sorted(versions)}")
    types = build_model(sds)
    text = render(types, versions.pop())
    json.loads(text)  # the output must stay valid JSON
    if args.check:
        try:
            with open(args.out, encoding="utf-8", newline="") as f:
                current = f.read()
        except OSError:
            current = None
        if current != text:
            print(f"{args.out} is out of date: run tools/gen_fhir_model.py", file=sys.stderr)
            sys.exit(1)
        return
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    kinds = {}
    for entry in types.values():
        kinds[entry["kind"]] = kinds.get(entry["kind"], 0) + 1
    print(f"wrote {args.out}: {len(text)} bytes, " +
          ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())), file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
