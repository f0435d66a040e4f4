// The clinician's view: trace a patient (criteria in a POST body, fuzzy by
// default, scores shown), open the record, ask permission to view before
// anything clinical is fetched, and otherwise offer a self-claimed
// relationship or emergency access, each with its reason.
import type { Bundle, BundleEntry, DocumentReference, OperationOutcome, Patient } from "fhir/r4";
import { ApiError, call } from "../api";
import { h, replace } from "../dom";
import { currentName, formatBirthDate, formatGender, formatName, formatNhsNumber, nhsDigits, nhsNumberError } from "../format";
import * as session from "../session";
import { renderSummary, unavailableSummary } from "../summary";
import {
  backLink, checked, heading, rendered, inset, loading, nhsNumberField, notice, patientBanner, radios, showErrors, showView,
  submitButton, tag, textArea, textField, value, warning, type FieldError,
} from "../ui";

interface TraceCriteria {
  nhs: string;
  family: string;
  given: string;
  day: string;
  month: string;
  year: string;
  gender: string;
  postcode: string;
  fuzzy: boolean;
}

let lastCriteria: TraceCriteria | null = null;
let lastResults: BundleEntry[] = [];

// Sign-out: the next user of this tab must not see this one's searches.
export function forgetTraces(): void {
  lastCriteria = null;
  lastResults = [];
}

function dateInput(): HTMLElement {
  const part = (id: string, label: string, width: number) =>
    h(
      "div",
      { class: "nhsuk-date-input__item" },
      h(
        "div",
        { class: "nhsuk-form-group" },
        h("label", { class: "nhsuk-label nhsuk-date-input__label", for: `dob-${id}` }, label),
        h("input", { class: `nhsuk-input nhsuk-date-input__input nhsuk-input--width-${width}`, id: `dob-${id}`, name: `dob-${id}`, type: "text", inputmode: "numeric", autocomplete: "off" }),
      ),
    );
  return h(
    "div",
    { class: "nhsuk-form-group" },
    h(
      "fieldset",
      { class: "nhsuk-fieldset", role: "group", "aria-describedby": "dob-hint" },
      h("legend", { class: "nhsuk-fieldset__legend nhsuk-fieldset__legend--s" }, "Date of birth"),
      h("div", { class: "nhsuk-hint", id: "dob-hint" }, "For example, 14 7 1945"),
      h("div", { class: "nhsuk-date-input", id: "dob" }, part("day", "Day", 2), part("month", "Month", 2), part("year", "Year", 4)),
    ),
  );
}

function readCriteria(form: HTMLFormElement): TraceCriteria {
  return {
    nhs: value(form, "nhs"),
    family: value(form, "family"),
    given: value(form, "given"),
    day: value(form, "dob-day"),
    month: value(form, "dob-month"),
    year: value(form, "dob-year"),
    gender: value(form, "gender"),
    postcode: value(form, "postcode"),
    fuzzy: (form.querySelector("#fuzzy") as HTMLInputElement).checked,
  };
}

function isoDate(c: TraceCriteria): string | null {
  if (!/^\d{1,2}$/.test(c.day) || !/^\d{1,2}$/.test(c.month) || !/^\d{4}$/.test(c.year)) return null;
  const iso = `${c.year}-${c.month.padStart(2, "0")}-${c.day.padStart(2, "0")}`;
  const d = new Date(`${iso}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== iso || d > new Date()) return null;
  return iso;
}

function validate(c: TraceCriteria): FieldError[] {
  if (c.nhs) {
    const msg = nhsNumberError(c.nhs);
    return msg ? [{ field: "nhs", message: msg }] : [];
  }
  const errors: FieldError[] = [];
  if (!c.family) errors.push({ field: "family", message: "Enter the patient's last name, or their NHS number" });
  if (!isoDate(c)) errors.push({ field: "dob-day", message: "Enter a real date of birth in the past, for example 14 7 1945" });
  return errors;
}

async function trace(c: TraceCriteria): Promise<Bundle | OperationOutcome> {
  const form: Record<string, string> = {};
  if (c.nhs) {
    form._id = nhsDigits(c.nhs);
    return call<Bundle>("/fhir/Patient/_search", { form });
  }
  if (c.fuzzy) form["_fuzzy-match"] = "true";
  form["_max-results"] = "10";
  form.family = c.family;
  if (c.given) form.given = c.given;
  form.birthdate = isoDate(c) ?? "";
  if (c.gender) form.gender = c.gender;
  if (c.postcode) form["address-postalcode"] = c.postcode;
  return call<Bundle | OperationOutcome>("/fhir/Patient/_search", { form });
}

export function traceView(): void {
  const form = h(
    "form",
    { novalidate: true },
    nhsNumberField("nhs", "NHS number (if you know it)"),
    h("p", { class: "nhsuk-body" }, "Or search by details:"),
    textField("family", "Last name", { width: 20, autocomplete: "off" }),
    textField("given", "First name (optional)", { width: 20 }),
    dateInput(),
    h(
      "div",
      { class: "nhsuk-form-group" },
      h("label", { class: "nhsuk-label", for: "gender" }, "Gender (optional)"),
      h(
        "select",
        { class: "nhsuk-select", id: "gender", name: "gender" },
        h("option", { value: "" }, "Any"),
        h("option", { value: "female" }, "Female"),
        h("option", { value: "male" }, "Male"),
        h("option", { value: "other" }, "Other"),
        h("option", { value: "unknown" }, "Not known"),
      ),
    ),
    textField("postcode", "Postcode (optional)", { width: 10, hint: "Full or partial, for example LS2 9JT or LS2" }),
    h(
      "div",
      { class: "nhsuk-form-group" },
      h(
        "div",
        { class: "nhsuk-checkboxes" },
        h(
          "div",
          { class: "nhsuk-checkboxes__item" },
          h("input", { class: "nhsuk-checkboxes__input", id: "fuzzy", name: "fuzzy", type: "checkbox", checked: lastCriteria ? lastCriteria.fuzzy : true, "aria-describedby": "fuzzy-hint" }),
          h("label", { class: "nhsuk-label nhsuk-checkboxes__label", for: "fuzzy" }, "Find similar names and dates"),
          h("div", { class: "nhsuk-hint nhsuk-checkboxes__hint", id: "fuzzy-hint" }, "Matches misspellings, nicknames and swapped day and month. Results show how closely each matches."),
        ),
      ),
    ),
    submitButton("Search"),
  );
  const results = h("div", { id: "trace-results" });
  if (lastCriteria) restore(form, lastCriteria);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const c = readCriteria(form);
    const errors = validate(c);
    showErrors(form, errors);
    if (errors.length) return;
    lastCriteria = c;
    replace(results, loading("Searching…"));
    try {
      const answer = await trace(c);
      if (answer.resourceType === "OperationOutcome") {
        lastResults = [];
        replace(results, inset(h("p", null, "There are too many matches. Add more details, such as the first name, gender or postcode.")));
        return;
      }
      lastResults = answer.entry ?? [];
      showResults(results, lastResults);
      rendered("trace");
    } catch (e) {
      replace(results, h("p", { class: "nhsuk-body", role: "alert" }, e instanceof ApiError ? e.message : "The search failed"));
    }
  });
  showView("Find a patient", heading("Find a patient"), form, results);
  if (lastResults.length) showResults(results, lastResults);
}

function restore(form: HTMLFormElement, c: TraceCriteria): void {
  const set = (id: string, v: string) => {
    const el = form.querySelector<HTMLInputElement | HTMLSelectElement>(`#${id}`);
    if (el) el.value = v;
  };
  set("nhs", c.nhs);
  set("family", c.family);
  set("given", c.given);
  set("dob-day", c.day);
  set("dob-month", c.month);
  set("dob-year", c.year);
  set("gender", c.gender);
  set("postcode", c.postcode);
}

function showResults(container: HTMLElement, found: BundleEntry[]): void {
  const patients = found.filter((e) => e.resource?.resourceType === "Patient");
  if (patients.length === 0) {
    replace(container, h("div", { role: "status" }, h("h2", { class: "nhsuk-heading-m" }, "No patients found")), h("p", { class: "nhsuk-body" }, "Check the details, or turn on finding similar names and dates."));
    return;
  }
  replace(
    container,
    h("div", { role: "status" }, h("h2", { class: "nhsuk-heading-m" }, patients.length === 1 ? "1 patient found" : `${patients.length} patients found`)),
    h(
      "table",
      { class: "nhsuk-table" },
      h("caption", { class: "nhsuk-table__caption nhsuk-u-visually-hidden" }, "Matching patients, best match first"),
      h("thead", { class: "nhsuk-table__head" }, h("tr", null, ["Name", "Born", "Gender", "NHS No.", "Postcode", "Match", ""].map((t) => h("th", { scope: "col", class: "nhsuk-table__header" }, t || h("span", { class: "nhsuk-u-visually-hidden" }, "Action"))))),
      h(
        "tbody",
        { class: "nhsuk-table__body" },
        patients.map((e) => {
          const p = e.resource as Patient;
          const name = formatName(currentName(p));
          const score = e.search?.score;
          return h(
            "tr",
            { class: "nhsuk-table__row" },
            h("td", { class: "nhsuk-table__cell" }, name),
            h("td", { class: "nhsuk-table__cell crs-nowrap" }, formatBirthDate(p.birthDate)),
            h("td", { class: "nhsuk-table__cell" }, formatGender(p.gender)),
            h("td", { class: "nhsuk-table__cell crs-nowrap" }, formatNhsNumber(p.id ?? "")),
            h("td", { class: "nhsuk-table__cell crs-nowrap" }, p.address?.find((a) => a.use !== "old")?.postalCode ?? "Not shown"),
            h("td", { class: "nhsuk-table__cell" }, score === undefined ? "Exact" : `${Math.round(score * 100)}%`),
            h("td", { class: "nhsuk-table__cell crs-row-actions" }, h("button", { type: "button", class: "nhsuk-button nhsuk-button--secondary nhsuk-button--small", onclick: () => patientView(p) }, "Open record", h("span", { class: "nhsuk-u-visually-hidden" }, ` for ${name}`))),
          );
        }),
      ),
    ),
  );
}

// ---------------------------------------------------------------------------

type Basis = { kind: "permission" } | { kind: "self-claimed"; reason: string } | { kind: "emergency"; reason: string };

function basisHeaders(b: Basis): Record<string, string> {
  switch (b.kind) {
    case "permission":
      return { "X-Permission-To-View": "granted" };
    case "self-claimed":
      return { "X-Permission-To-View": "granted", "X-Legitimate-Relationship": "self-claimed", "X-Access-Justification": b.reason };
    case "emergency":
      return { "X-Purpose-Of-Use": "ETREAT", "X-Access-Justification": b.reason };
  }
}

// Header values travel as Latin-1; anything else cannot be sent as typed.
function reasonError(reason: string, field: string): FieldError[] {
  if (!reason) return [{ field, message: "Enter the reason" }];
  if (/[^\x20-\x7e\u00a0-\u00ff]/.test(reason)) return [{ field, message: "The reason can only use letters, numbers, spaces and common punctuation" }];
  if (reason.length > 900) return [{ field, message: "The reason must be 900 characters or fewer" }];
  return [];
}

interface IndexState {
  exists: boolean;
  consent: string; // implied, consented, dissented, no-decision
}

async function summaryIndex(nhs: string): Promise<IndexState> {
  const b = await call<Bundle>("/fhir/DocumentReference/_search", { form: { patient: nhs } });
  const docs = (b.entry ?? []).filter((e) => e.resource?.resourceType === "DocumentReference").map((e) => e.resource as DocumentReference);
  let consent = "implied";
  for (const e of b.entry ?? []) {
    for (const x of (e.resource as OperationOutcome | undefined)?.extension ?? []) {
      if (x.url === "urn:opencrs:scr-consent" && x.valueCode) consent = x.valueCode;
    }
  }
  return { exists: docs.length > 0, consent };
}

export async function patientView(p: Patient): Promise<void> {
  const body = h("div", null, loading("Checking for a Summary Care Record…"));
  showView(
    formatName(currentName(p)),
    backLink("Back to search results", traceView),
    heading("Patient record"),
    patientBanner(p),
    body,
  );
  let state: IndexState;
  try {
    state = await summaryIndex(p.id ?? "");
  } catch (e) {
    replace(body, unavailableSummary(e instanceof ApiError ? e.message : "The Summary Care Record could not be checked."));
    return;
  }
  if (state.consent === "dissented" || state.consent === "no-decision") {
    replace(
      body,
      h("h2", { class: "nhsuk-heading-m" }, "No Summary Care Record available"),
      inset(h("p", null, state.consent === "dissented"
        ? "The patient has chosen not to share a Summary Care Record. None is held by the national record."
        : "The patient has not agreed to a Summary Care Record. None is held by the national record.")),
      h("p", { class: "nhsuk-body" }, "Ask the patient, or their GP practice, about allergies and medication."),
    );
    return;
  }
  const user = session.load()?.user;
  if (user && !session.canViewClinical(user)) {
    replace(body, unavailableSummary("Your role does not allow you to view clinical records. You can see the patient's details above."));
    return;
  }
  if (!state.exists) {
    replace(body, h("h2", { class: "nhsuk-heading-m" }, "No Summary Care Record available"), h("p", { class: "nhsuk-body" }, "No Summary Care Record is held for this patient."));
    return;
  }
  askPermission(p, body);
}

function askPermission(p: Patient, body: HTMLElement): void {
  const form = h(
    "form",
    { novalidate: true },
    radios(
      "ptv",
      "Has the patient given permission to view their record?",
      [
        { value: "yes", label: "Yes, the patient has given permission" },
        { value: "no", label: "No, or the patient cannot be asked" },
      ],
      { hint: "Ask the patient before you look. Your answer is recorded with this access.", legendSize: "l" },
    ),
    submitButton("Continue"),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const answer = checked(form, "ptv");
    if (!answer) return showErrors(form, [{ field: "ptv", message: "Select whether the patient has given permission to view their record" }]);
    if (answer === "yes") void openSummary(p, body, { kind: "permission" });
    else noPermission(p, body);
  });
  replace(body, form);
  (form.querySelector("input") as HTMLInputElement | null)?.focus();
}

function noPermission(p: Patient, body: HTMLElement): void {
  replace(
    body,
    h("h2", { class: "nhsuk-heading-m", tabindex: "-1" }, "You cannot view this record without the patient's permission"),
    h("p", { class: "nhsuk-body" }, "If the patient cannot give permission, for example because they are unconscious, and you need their record to treat them, you can use emergency access."),
    emergencyForm(p, body),
  );
  (body.querySelector("h2") as HTMLElement).focus();
}

function emergencyForm(p: Patient, body: HTMLElement): HTMLFormElement {
  const form = h(
    "form",
    { novalidate: true },
    warning(
      "Emergency access is audited",
      h("p", null, "Using emergency access is recorded, alerted to your organisation's privacy officer and reviewed. The patient can see that you opened their record, and your reason."),
    ),
    radios(
      "emergency-code",
      "Why do you need emergency access?",
      [
        { value: "Patient unable to give permission", label: "The patient cannot give permission (for example, unconscious)" },
        { value: "Urgent clinical need", label: "Urgent clinical need and the patient cannot be asked" },
        { value: "Other", label: "Another reason" },
      ],
    ),
    textArea("emergency-reason", "Describe the reason", "Say what is happening. This is shown to the patient and the privacy officer."),
    submitButton("Use emergency access", "warning"),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const code = checked(form, "emergency-code");
    const text = value(form, "emergency-reason");
    const errors: FieldError[] = [];
    if (!code) errors.push({ field: "emergency-code", message: "Select why you need emergency access" });
    errors.push(...reasonError(text, "emergency-reason"));
    showErrors(form, errors);
    if (errors.length) return;
    void openSummary(p, body, { kind: "emergency", reason: `${code}: ${text}` });
  });
  return form;
}

function noRelationship(p: Patient, body: HTMLElement): void {
  const claim = h(
    "form",
    { novalidate: true },
    h("h3", { class: "nhsuk-heading-s" }, "Claim a care relationship"),
    h("p", { class: "nhsuk-body" }, "If you are caring for this patient but your organisation's relationship with them is not on record yet, you can claim one. Your claim is alerted to your privacy officer."),
    textArea("claim-reason", "Why are you caring for this patient?", "For example: walk-in consultation today"),
    submitButton("Claim relationship and view", "secondary"),
  );
  claim.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const reason = value(claim, "claim-reason");
    const errors = reasonError(reason, "claim-reason");
    showErrors(claim, errors);
    if (!errors.length) void openSummary(p, body, { kind: "self-claimed", reason });
  });
  replace(
    body,
    h("h2", { class: "nhsuk-heading-m", tabindex: "-1" }, "Your organisation has no care relationship with this patient on record"),
    claim,
    h("h3", { class: "nhsuk-heading-s" }, "Emergency access"),
    emergencyForm(p, body),
  );
  (body.querySelector("h2") as HTMLElement).focus();
}

async function openSummary(p: Patient, body: HTMLElement, basis: Basis): Promise<void> {
  replace(body, loading("Loading the Summary Care Record…"));
  try {
    const doc = await call<Bundle>(`/fhir/Patient/${encodeURIComponent(p.id ?? "")}/$summary`, { headers: basisHeaders(basis) });
    replace(
      body,
      basis.kind === "emergency"
        ? notice("You are viewing this record with emergency access. This access has been recorded and will be reviewed.")
        : basis.kind === "self-claimed"
          ? notice("You are viewing this record on a claimed care relationship. This access has been recorded and will be reviewed.")
          : h("p", { class: "nhsuk-body" }, tag("Permission to view recorded", "green")),
      renderSummary(doc),
    );
    rendered("summary");
    (body.querySelector("h2") as HTMLElement | null)?.setAttribute("tabindex", "-1");
    (body.querySelector("h2") as HTMLElement | null)?.focus();
  } catch (e) {
    if (e instanceof ApiError && e.status === 404 && basis.kind === "permission") return noRelationship(p, body);
    if (e instanceof ApiError && e.status === 403 && /dissent|not consented/.test(e.message)) {
      replace(body, h("h2", { class: "nhsuk-heading-m" }, "No Summary Care Record available"), inset(h("p", null, "The patient has chosen not to share a Summary Care Record.")));
      return;
    }
    if (e instanceof ApiError && e.status === 403) {
      replace(body, unavailableSummary(`Your role does not allow you to view clinical records (${e.message}).`));
      return;
    }
    replace(body, unavailableSummary(e instanceof ApiError ? e.message : "The Summary Care Record could not be loaded."));
  }
}
