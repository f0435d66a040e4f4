// The Summary Care Record as the CUI lays it out: allergies under one of
// the four NHS headings, medication with the generic name first, additional
// information when the patient agreed to it, and a plain note when sealed
// items were withheld (never what they are).
import type {
  AllergyIntolerance, Bundle, CodeableConcept, Composition, Condition, Extension, Immunization,
  Medication, MedicationRequest, MedicationStatement, Procedure, Reference,
} from "fhir/r4";
import { h, type Child } from "./dom";
import { formatDate, formatDateTime } from "./format";
import { inset } from "./ui";

export type AllergyHeading = "Known allergies" | "No known allergies" | "Allergies not recorded" | "Allergies unavailable";

// When a practice sent its allergies only as text (as the NHS examples do),
// none of the four headings can be chosen safely: the server's narrative
// says this instead (docs/summary.md), and so does the UI.
const AS_RECORDED = "Allergies and adverse reactions (as recorded by the practice)";

type Section = NonNullable<Composition["section"]>[number];

function sectionCode(s: Section): string {
  return s.code?.coding?.[0]?.code ?? "";
}

// A section's narrative as lines of plain text: parsed as an inert document
// (nothing in it runs or loads), only its text is kept.
export function narrativeLines(s: Section | undefined): string[] {
  const div = s?.text?.div;
  if (!div) return [];
  const doc = new DOMParser().parseFromString(div, "text/html");
  const blocks = Array.from(doc.body.querySelectorAll("p, li, tr, h1, h2, h3, h4, h5, h6"))
    .filter((el) => !el.querySelector("p, li, tr"))
    .map((el) => (el.textContent ?? "").replace(/\s+/g, " ").trim())
    .filter(Boolean);
  if (blocks.length) return blocks;
  const text = (doc.body.textContent ?? "").replace(/\s+/g, " ").trim();
  return text ? [text] : [];
}

function narrative(lines: string[]): HTMLElement {
  return h("div", { class: "crs-narrative" }, lines.map((l) => h("p", { class: "nhsuk-body" }, l)));
}

// SNOMED CT "no known allergy" concepts.
const NO_KNOWN_ALLERGY = new Set(["716186003", "409137002", "429625007", "428607008"]);

export function allergyHeading(allergies: AllergyIntolerance[] | null): AllergyHeading {
  if (allergies === null) return "Allergies unavailable";
  const known = allergies.filter((a) => !(a.code?.coding ?? []).some((c) => NO_KNOWN_ALLERGY.has(c.code ?? "")));
  if (known.length > 0) return "Known allergies";
  if (allergies.length > 0) return "No known allergies";
  return "Allergies not recorded";
}

function conceptText(c: CodeableConcept | undefined): string {
  return c?.coding?.find((x) => x.display)?.display ?? c?.text ?? "Not named";
}

// Generic (dm+d VMP) name first, then the name as prescribed when it differs (a brand).
export function medicationName(c: CodeableConcept | undefined): string {
  const generic = c?.coding?.find((x) => x.display)?.display;
  const asWritten = c?.text;
  if (generic && asWritten && asWritten.toLowerCase() !== generic.toLowerCase()) return `${generic} (${asWritten})`;
  return generic ?? asWritten ?? "Not named";
}

type Med = MedicationStatement | MedicationRequest;

function medConcept(m: Med, bundle: Bundle): CodeableConcept | undefined {
  if (m.medicationCodeableConcept) return m.medicationCodeableConcept;
  const ref = m.medicationReference?.reference;
  if (!ref) return undefined;
  for (const e of bundle.entry ?? []) {
    const r = e.resource;
    if (r?.resourceType === "Medication" && (e.fullUrl === ref || `Medication/${r.id}` === ref)) return (r as Medication).code;
  }
  return undefined;
}

function dosage(m: Med): string {
  const d = m.resourceType === "MedicationStatement" ? m.dosage : m.dosageInstruction;
  return (d ?? []).map((x) => x.text).filter(Boolean).join("; ") || "Dosage not recorded";
}

interface Sectioned {
  title: string;
  meds: Med[];
}

const MED_SECTIONS: Record<string, string> = {
  AcuteMedsHeader: "Acute medication (last 12 months)",
  RepeatMedsHeader: "Repeat medication",
  DiscRepeatMedsHeader: "Discontinued repeat medication",
};

function medSections(bundle: Bundle, comp: Composition | undefined, meds: Med[]): Sectioned[] {
  const byRef = new Map<string, Med>();
  for (const e of bundle.entry ?? []) {
    const r = e.resource;
    if (r && (r.resourceType === "MedicationStatement" || r.resourceType === "MedicationRequest")) {
      if (e.fullUrl) byRef.set(e.fullUrl, r);
      byRef.set(`${r.resourceType}/${r.id}`, r);
    }
  }
  const placed = new Set<Med>();
  const out: Sectioned[] = [];
  for (const s of comp?.section ?? []) {
    const code = s.code?.coding?.[0]?.code ?? "";
    const title = MED_SECTIONS[code];
    if (!title) continue;
    const list = (s.entry ?? []).map((r: Reference) => byRef.get(r.reference ?? "")).filter((m): m is Med => !!m);
    list.forEach((m) => placed.add(m));
    if (list.length) out.push({ title, meds: list });
  }
  const rest = meds.filter((m) => !placed.has(m));
  if (rest.length) out.push({ title: "Current medication", meds: rest });
  return out;
}

function of<T>(bundle: Bundle, type: string): T[] {
  return (bundle.entry ?? []).map((e) => e.resource).filter((r) => r?.resourceType === type) as T[];
}

export function withheldCount(comp: Composition | undefined): number {
  const ext = (comp?.extension ?? []).find((e: Extension) => e.url === "urn:opencrs:withheld-sealed");
  return ext?.valueInteger ?? 0;
}

function allergySection(allergies: AllergyIntolerance[] | null, practiceText: string[] = []): HTMLElement {
  if (allergies !== null && allergies.length === 0 && practiceText.length) {
    return h(
      "section",
      { "aria-labelledby": "crs-allergies" },
      h("h2", { class: "nhsuk-heading-m", id: "crs-allergies" }, AS_RECORDED),
      narrative(practiceText),
    );
  }
  const title = allergyHeading(allergies);
  const known = (allergies ?? []).filter((a) => !(a.code?.coding ?? []).some((c) => NO_KNOWN_ALLERGY.has(c.code ?? "")));
  return h(
    "section",
    { "aria-labelledby": "crs-allergies" },
    h("h2", { class: "nhsuk-heading-m", id: "crs-allergies" }, title),
    known.length
      ? h(
          "table",
          { class: "nhsuk-table" },
          h("caption", { class: "nhsuk-table__caption nhsuk-u-visually-hidden" }, "Allergies and adverse reactions"),
          h("thead", { class: "nhsuk-table__head" }, h("tr", null, ["Allergen or drug", "Reaction", "Date recorded"].map((t) => h("th", { scope: "col", class: "nhsuk-table__header" }, t)))),
          h(
            "tbody",
            { class: "nhsuk-table__body" },
            known.map((a) =>
              h(
                "tr",
                { class: "nhsuk-table__row" },
                h("td", { class: "nhsuk-table__cell" }, conceptText(a.code), a.criticality === "high" ? [" ", h("strong", { class: "nhsuk-tag nhsuk-tag--red" }, "High risk")] : null),
                h("td", { class: "nhsuk-table__cell" }, (a.reaction ?? []).flatMap((r) => (r.manifestation ?? []).map(conceptText)).join(", ") || "Not recorded"),
                h("td", { class: "nhsuk-table__cell crs-nowrap" }, formatDate(a.recordedDate ?? a.onsetDateTime)),
              ),
            ),
          ),
        )
      : null,
  );
}

function medicationSection(bundle: Bundle, comp: Composition | undefined): HTMLElement {
  const meds: Med[] = [...of<MedicationStatement>(bundle, "MedicationStatement"), ...of<MedicationRequest>(bundle, "MedicationRequest")];
  const sections = medSections(bundle, comp, meds);
  // Medication sections the practice sent as text only.
  const texts = (comp?.section ?? [])
    .filter((sec) => MED_SECTIONS[sectionCode(sec)] && !(sec.entry ?? []).length)
    .map((sec) => ({ title: MED_SECTIONS[sectionCode(sec)], lines: narrativeLines(sec) }))
    .filter((t) => t.lines.length);
  return h(
    "section",
    { "aria-labelledby": "crs-meds" },
    h("h2", { class: "nhsuk-heading-m", id: "crs-meds" }, "Medication"),
    sections.length === 0 && texts.length === 0 ? h("p", { class: "nhsuk-body" }, "No medication recorded") : null,
    texts.map((t) => [h("h3", { class: "nhsuk-heading-s" }, `${t.title} (as recorded by the practice)`), narrative(t.lines)]),
    sections.map((s) =>
      h(
        "table",
        { class: "nhsuk-table" },
        h("caption", { class: "nhsuk-table__caption nhsuk-table__caption--s" }, s.title),
        h("thead", { class: "nhsuk-table__head" }, h("tr", null, ["Medication", "Dosage"].map((t) => h("th", { scope: "col", class: "nhsuk-table__header" }, t)))),
        h(
          "tbody",
          { class: "nhsuk-table__body" },
          s.meds.map((m) => h("tr", { class: "nhsuk-table__row" }, h("td", { class: "nhsuk-table__cell" }, h("strong", null, medicationName(medConcept(m, bundle)))), h("td", { class: "nhsuk-table__cell" }, dosage(m)))),
        ),
      ),
    ),
  );
}

function additionalSection(bundle: Bundle): HTMLElement | null {
  const items: Child[] = [];
  const list = (title: string, names: string[]) => {
    if (names.length) items.push(h("h3", { class: "nhsuk-heading-s" }, title), h("ul", { class: "nhsuk-list nhsuk-list--bullet" }, names.map((n) => h("li", null, n))));
  };
  list("Problems and diagnoses", of<Condition>(bundle, "Condition").map((c) => conceptText(c.code)));
  list("Procedures", of<Procedure>(bundle, "Procedure").map((p) => conceptText(p.code)));
  list("Immunisations", of<Immunization>(bundle, "Immunization").map((i) => `${conceptText(i.vaccineCode)}${i.occurrenceDateTime ? ` (${formatDate(i.occurrenceDateTime)})` : ""}`));
  if (!items.length) return null;
  return h("section", { "aria-labelledby": "crs-additional" }, h("h2", { class: "nhsuk-heading-m", id: "crs-additional" }, "Additional information"), items);
}

// The practice that wrote the summary: its entry's name and ODS code.
function authorName(bundle: Bundle, comp: Composition | undefined): string {
  const ref = comp?.author?.[0]?.reference;
  if (!ref) return "";
  for (const e of bundle.entry ?? []) {
    const r = e.resource;
    if (r?.resourceType === "Organization" && (e.fullUrl === ref || `Organization/${r.id}` === ref)) {
      const ods = r.identifier?.find((i) => i.system === "https://fhir.nhs.uk/Id/ods-organization-code")?.value;
      return [r.name, ods ? `(${ods})` : ""].filter(Boolean).join(" ");
    }
  }
  return ref.startsWith("Organization/") ? ref.slice(13) : "";
}

// Other sections the practice sent as text only (care preferences,
// communication needs...), each under its own title.
function otherSections(comp: Composition | undefined): HTMLElement | null {
  const texts = (comp?.section ?? [])
    .filter((sec) => !["Title", "AllergiesHeader"].includes(sectionCode(sec)) && !MED_SECTIONS[sectionCode(sec)] && !(sec.entry ?? []).length)
    .map((sec) => ({ title: sec.title ?? "Information from the practice", lines: narrativeLines(sec) }))
    .filter((t) => t.lines.length);
  if (!texts.length) return null;
  return h(
    "section",
    { "aria-labelledby": "crs-other" },
    h("h2", { class: "nhsuk-heading-m", id: "crs-other" }, "Other information from the practice"),
    texts.map((t) => [h("h3", { class: "nhsuk-heading-s" }, t.title), narrative(t.lines)]),
  );
}

// The whole summary view for a $summary document Bundle.
export function renderSummary(bundle: Bundle): HTMLElement {
  const comp = of<Composition>(bundle, "Composition")[0];
  const withheld = withheldCount(comp);
  return h(
    "div",
    { class: "crs-summary" },
    h("p", { class: "nhsuk-body-s" }, "Summary Care Record", comp?.date ? `, last updated ${formatDateTime(comp.date)}` : "", authorName(bundle, comp) ? ` by ${authorName(bundle, comp)}` : ""),
    withheld > 0 ? inset(h("p", { class: "crs-withheld" }, "Some information in this record is sealed and has been withheld. It is not shown here.")) : null,
    allergySection(of<AllergyIntolerance>(bundle, "AllergyIntolerance"), narrativeLines(comp?.section?.find((sec) => sectionCode(sec) === "AllergiesHeader"))),
    medicationSection(bundle, comp),
    additionalSection(bundle),
    otherSections(comp),
  );
}

export function unavailableSummary(reason: string): HTMLElement {
  return h(
    "div",
    { class: "crs-summary" },
    h("section", { "aria-labelledby": "crs-allergies" }, h("h2", { class: "nhsuk-heading-m", id: "crs-allergies" }, allergyHeading(null)), h("p", { class: "nhsuk-body" }, reason)),
  );
}
