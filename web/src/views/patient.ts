// The patient's own view: their summary, their sharing choices (each
// explained, and the effect of a change shown before it is saved), and who
// has accessed their record, with a way to report an access they do not
// recognise and to download the log.
import type { AuditEvent, Bundle, Consent, Patient } from "fhir/r4";
import { ApiError, call, entries, nextCursor } from "../api";
import { parseAccess, orgName, type Access, whatWasSeen, who, why } from "../audit";
import { h, replace, type Child } from "../dom";
import { formatDateTime } from "../format";
import type { User } from "../session";
import { renderSummary } from "../summary";
import {
  button, checked, heading, rendered, loading, notice, patientBanner, radios, showErrors, showView, submitButton, summaryList, tag, textArea, value,
} from "../ui";

type Tab = "summary" | "choices" | "log";
const TABS: [Tab, string][] = [
  ["summary", "My summary"],
  ["choices", "My choices"],
  ["log", "Who has accessed my record"],
];

export async function patientHome(user: User, tab: Tab = "summary", message = ""): Promise<void> {
  const nhs = user.patient ?? "";
  const body = h("div", null, loading());
  const nav = h(
    "nav",
    { "aria-label": "Your record" },
    h("ul", { class: "crs-tabs" }, TABS.map(([t, label]) => h("li", null, h("button", {
      type: "button",
      class: `nhsuk-button ${t === tab ? "" : "nhsuk-button--secondary"}`,
      "aria-current": t === tab ? "page" : undefined,
      onclick: () => void patientHome(user, t),
    }, label)))),
  );
  const title = TABS.find(([t]) => t === tab)?.[1] ?? "";
  showView(title, heading(title, "Your record"), nav, message ? notice(message, "success") : null, body);
  try {
    if (tab === "summary") await mySummary(nhs, body);
    else if (tab === "choices") await myChoices(user, body);
    else await myLog(nhs, body);
  } catch (e) {
    replace(body, h("p", { class: "nhsuk-body", role: "alert" }, e instanceof ApiError ? e.message : "Something went wrong. Try again."));
  }
}

async function mySummary(nhs: string, body: HTMLElement): Promise<void> {
  const patient = await call<Patient>(`/fhir/Patient/${encodeURIComponent(nhs)}`);
  try {
    const doc = await call<Bundle>(`/fhir/Patient/${encodeURIComponent(nhs)}/$summary`);
    replace(body, patientBanner(patient), renderSummary(doc));
  } catch (e) {
    if (!(e instanceof ApiError) || (e.status !== 404 && e.status !== 403)) throw e;
    replace(
      body,
      patientBanner(patient),
      h("h2", { class: "nhsuk-heading-m" }, "You do not have a Summary Care Record"),
      h("p", { class: "nhsuk-body" }, e.status === 403
        ? "You have chosen not to share a Summary Care Record, so none is held. You can change this in My choices."
        : "Your GP practice has not uploaded a Summary Care Record yet."),
    );
  }
}

// ---------------------------------------------------------------------------

const SCR = "urn:opencrs:consent:scr";
const SCR_ADDITIONAL = "urn:opencrs:consent:scr-additional";
const NDOP = "urn:opencrs:consent:ndop";

type ScrChoice = "share" | "share-additional" | "dont-share";
type NdopChoice = "allow" | "opt-out";

interface Choices {
  scr: ScrChoice;
  ndop: NdopChoice;
}

// The latest active decision per policy decides (docs/access.md).
function latest(consents: Consent[], policy: string): "permit" | "deny" | undefined {
  const mine = consents
    .filter((c) => c.status === "active" && (c.policyRule?.coding ?? []).some((x) => x.code === policy))
    .sort((a, b) => (b.meta?.lastUpdated ?? b.dateTime ?? "").localeCompare(a.meta?.lastUpdated ?? a.dateTime ?? ""));
  return mine[0]?.provision?.type;
}

async function currentChoices(nhs: string): Promise<Choices> {
  const b = await call<Bundle>("/fhir/Consent/_search", { form: { patient: nhs, _count: "1000" } });
  const consents = entries<Consent>(b, "Consent");
  const scr = latest(consents, SCR);
  const extra = latest(consents, SCR_ADDITIONAL);
  return {
    scr: scr === "deny" ? "dont-share" : extra === "permit" ? "share-additional" : "share",
    ndop: latest(consents, NDOP) === "deny" ? "opt-out" : "allow",
  };
}

const SCR_TEXT: Record<ScrChoice, { label: string; hint: string }> = {
  share: {
    label: "Share my core Summary Care Record",
    hint: "Your allergies, bad reactions to medicines and current medicines, so that staff in A&E, pharmacies and out-of-hours services can treat you safely.",
  },
  "share-additional": {
    label: "Share my Summary Care Record with additional information",
    hint: "As well as the core record: long-term conditions, significant problems, procedures, immunisations and your care preferences.",
  },
  "dont-share": {
    label: "Do not share a Summary Care Record",
    hint: "No summary of your GP record is held nationally. Staff elsewhere will have to ask you, or your GP practice, about your allergies and medicines.",
  },
};

const NDOP_TEXT: Record<NdopChoice, { label: string; hint: string }> = {
  allow: {
    label: "Yes, my data can be used for research and planning",
    hint: "Your confidential patient information can be used to improve health services and for research, with safeguards.",
  },
  "opt-out": {
    label: "No, opt me out (National Data Opt-out)",
    hint: "Your confidential patient information is not used for research and planning. It is still used for your own care.",
  },
};

function effects(from: Choices, to: Choices): string[] {
  const out: string[] = [];
  if (from.scr !== to.scr) {
    if (to.scr === "dont-share") {
      out.push("Your Summary Care Record will be erased from the national record straight away, with its earlier versions.");
      out.push("Staff in A&E, pharmacies and other services will not see your allergies or medicines there. Your GP practice cannot upload a new one until you change your mind.");
    } else if (to.scr === "share") {
      out.push(from.scr === "dont-share"
        ? "Your GP practice will be able to upload your Summary Care Record again: allergies, reactions and current medicines."
        : "Additional information will be removed from your Summary Care Record; the core record stays.");
    } else {
      out.push("Your GP practice will be able to include additional information: long-term conditions, problems, procedures, immunisations and care preferences.");
    }
    if (to.scr !== "dont-share") out.push("Staff will see it only with your permission, or in an emergency; every access is shown to you here.");
  }
  if (from.ndop !== to.ndop) {
    out.push(to.ndop === "opt-out"
      ? "Your confidential patient information will not be used for research and planning. It will still be used for your care."
      : "Your confidential patient information may be used for research and planning again, with safeguards.");
  }
  return out;
}

function consentResource(nhs: string, policy: string, type: "permit" | "deny"): Consent {
  return {
    resourceType: "Consent",
    status: "active",
    dateTime: new Date().toISOString(),
    scope: { coding: [{ system: "http://terminology.hl7.org/CodeSystem/consentscope", code: "patient-privacy" }] },
    category: [{ coding: [{ system: "http://loinc.org", code: "59284-0" }] }],
    patient: { reference: `Patient/${nhs}` },
    policyRule: { coding: [{ code: policy }] },
    provision: { type },
  };
}

async function saveChoices(nhs: string, from: Choices, to: Choices): Promise<void> {
  const writes: Consent[] = [];
  if (from.scr !== to.scr) {
    if (to.scr === "dont-share") writes.push(consentResource(nhs, SCR, "deny"));
    else {
      writes.push(consentResource(nhs, SCR, "permit"));
      writes.push(consentResource(nhs, SCR_ADDITIONAL, to.scr === "share-additional" ? "permit" : "deny"));
    }
  }
  if (from.ndop !== to.ndop) writes.push(consentResource(nhs, NDOP, to.ndop === "opt-out" ? "deny" : "permit"));
  for (const c of writes) await call<Consent>("/fhir/Consent", { json: c });
}

async function myChoices(user: User, body: HTMLElement): Promise<void> {
  const nhs = user.patient ?? "";
  const now = await currentChoices(nhs);
  const form = h(
    "form",
    { novalidate: true },
    radios("scr", "Summary Care Record", (Object.keys(SCR_TEXT) as ScrChoice[]).map((k) => ({ value: k, ...SCR_TEXT[k] })), {
      checked: now.scr,
      hint: "A summary of your GP record that staff anywhere in the NHS can see when they treat you.",
    }),
    radios("ndop", "Research and planning", (Object.keys(NDOP_TEXT) as NdopChoice[]).map((k) => ({ value: k, ...NDOP_TEXT[k] })), {
      checked: now.ndop,
      hint: "Whether your confidential patient information may be used beyond your own care.",
    }),
    submitButton("Continue"),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const to: Choices = { scr: checked(form, "scr") as ScrChoice, ndop: checked(form, "ndop") as NdopChoice };
    const changes = effects(now, to);
    if (!changes.length) return showErrors(form, [{ field: "scr", message: "You have not changed anything. Select a different choice to change it." }]);
    confirm(user, body, now, to, changes);
  });
  replace(body, h("p", { class: "nhsuk-body" }, "Your current choices are selected. You will see what a change does before it is saved."), form);
}

function confirm(user: User, body: HTMLElement, from: Choices, to: Choices, changes: string[]): void {
  const save = button("Save my choices", async () => {
    save.disabled = true;
    try {
      await saveChoices(user.patient ?? "", from, to);
      await patientHome(user, "choices", "Your choices have been saved and apply now.");
    } catch (e) {
      save.disabled = false;
      showErrors(body, [{ field: "", message: e instanceof ApiError ? e.message : "Your choices could not be saved" }]);
    }
  });
  replace(
    body,
    h("h2", { class: "nhsuk-heading-m", tabindex: "-1" }, "Check your choices before saving"),
    summaryList([
      ["Summary Care Record", SCR_TEXT[to.scr].label],
      ["Research and planning", NDOP_TEXT[to.ndop].label],
    ]),
    h("h3", { class: "nhsuk-heading-s" }, "What will change"),
    h("ul", { class: "nhsuk-list nhsuk-list--bullet" }, changes.map((c) => h("li", null, c))),
    h("div", { class: "nhsuk-button-group" }, save, button("Change my answers", () => void patientHome(user, "choices"), "secondary")),
  );
  (body.querySelector("h2") as HTMLElement).focus();
}

// ---------------------------------------------------------------------------

const LOG_PAGE = 50;

interface LogPage {
  accesses: Access[];
  cursor: string; // "" on the last page
}

async function loadLog(nhs: string, cursor = "", count = LOG_PAGE): Promise<LogPage> {
  const form: Record<string, string> = { patient: nhs, _count: String(count) };
  if (cursor) form._cursor = cursor;
  const b = await call<Bundle>("/fhir/AuditEvent/_search", { form });
  return { accesses: entries<AuditEvent>(b, "AuditEvent").map(parseAccess), cursor: nextCursor(b) };
}

// Every page of the log, for the download.
async function wholeLog(nhs: string): Promise<Access[]> {
  const all: Access[] = [];
  let cursor = "";
  do {
    const page = await loadLog(nhs, cursor, 1000);
    all.push(...page.accesses);
    cursor = page.cursor;
  } while (cursor);
  return all.filter((a) => a.action !== "patient-report");
}

function csvCell(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function download(accesses: Access[]): void {
  const rows = [["Date and time", "Who", "Role", "Organisation", "What", "Why", "Emergency access", "Record"]];
  for (const a of accesses) rows.push([a.when, a.automated ? "Automated system" : a.userName || a.user, a.role, a.org, whatWasSeen(a), why(a), a.emergency ? "yes" : "no", a.seq]);
  const blob = new Blob([rows.map((r) => r.map(csvCell).join(",")).join("\r\n") + "\r\n"], { type: "text/csv" });
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: "my-record-access-log.csv", hidden: true });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

async function myLog(nhs: string, body: HTMLElement): Promise<void> {
  // Reports are newer than what they report, so a page's rows know whether
  // they were reported from this page and the ones before it.
  const reported = new Set<string>();
  const orgs = new Map<string, string>();
  const tbody = h("tbody", { class: "nhsuk-table__body" });
  const status = h("p", { class: "nhsuk-body", role: "status" });
  const more = h("div");
  let listed = 0;
  let people = 0;
  let emergencies = 0;

  const row = (a: Access): HTMLElement => {
    const own = a.role === "patient";
    const actions = h("td", { class: "nhsuk-table__cell crs-row-actions" });
    if (reported.has(a.seq)) actions.append(tag("Reported", "orange"));
    else if (!own && a.org) {
      actions.append(h("button", { type: "button", class: "nhsuk-button nhsuk-button--secondary nhsuk-button--small", onclick: () => reportForm(a, tr, actions) },
        "I don't recognise this", h("span", { class: "nhsuk-u-visually-hidden" }, ` (${formatDateTime(a.when)})`)));
    }
    const tr = h(
      "tr",
      { class: `nhsuk-table__row${a.emergency ? " crs-emergency-row" : ""}`, "data-seq": a.seq },
      h("td", { class: "nhsuk-table__cell crs-nowrap" }, formatDateTime(a.when)),
      h("td", { class: "nhsuk-table__cell" }, own ? "You" : who(a), a.automated ? [" ", tag("Automated", "grey")] : null),
      h("td", { class: "nhsuk-table__cell" }, own ? "" : orgs.get(a.org) || a.org || "Not recorded"),
      h("td", { class: "nhsuk-table__cell" }, whatWasSeen(a)),
      h("td", { class: "nhsuk-table__cell" }, a.emergency ? [tag("Emergency access", "red"), " "] : null, a.selfClaimed ? [tag("Claimed relationship", "orange"), " "] : null, why(a)),
      actions,
    );
    return tr;
  };

  const show = async (cursor: string): Promise<void> => {
    const page = await loadLog(nhs, cursor);
    for (const a of page.accesses) if (a.action === "patient-report") reported.add(a.reports);
    const shown = page.accesses.filter((a) => a.action !== "patient-report");
    await Promise.all([...new Set(shown.map((a) => a.org))].filter((o) => !orgs.has(o)).map(async (o) => orgs.set(o, await orgName(o))));
    const rows = shown.map(row);
    tbody.append(...rows);
    listed += shown.length;
    people += shown.filter((a) => !a.automated).length;
    emergencies += shown.filter((a) => a.emergency).length;
    status.textContent = `${listed} accesses to your record are listed, newest first: ${people} by people, ${listed - people} automated.` +
      (emergencies ? ` ${emergencies} used emergency access.` : "") + (page.cursor ? " Older accesses follow." : "");
    replace(more, page.cursor ? button("Show older accesses", async () => {
      replace(more, loading("Loading older accesses…"));
      const before = tbody.rows.length;
      try {
        await show(page.cursor);
      } catch (e) {
        replace(more, h("p", { class: "nhsuk-body", role: "alert" }, e instanceof ApiError ? e.message : "Older accesses could not be loaded"));
        return;
      }
      // Keyboard and screen-reader users continue at the first older row.
      const first = tbody.rows[before]?.cells[0];
      first?.setAttribute("tabindex", "-1");
      first?.focus();
    }, "secondary") : null);
  };

  replace(
    body,
    status,
    h("p", { class: "nhsuk-body" }, "If you do not recognise an access, report it: the organisation's privacy officer will look into it."),
    button("Download my access log (CSV)", async () => download(await wholeLog(nhs)), "secondary"),
    h(
      "table",
      { class: "nhsuk-table crs-log" },
      h("caption", { class: "nhsuk-table__caption nhsuk-u-visually-hidden" }, "Who has accessed your record"),
      h("thead", { class: "nhsuk-table__head" }, h("tr", null, ["Date and time", "Who", "Organisation", "What", "Why", ""].map((t) => h("th", { scope: "col", class: "nhsuk-table__header" }, t || h("span", { class: "nhsuk-u-visually-hidden" }, "Report"))))),
      tbody,
    ),
    more,
  );
  await show("");
  rendered("access-log");
}

function reportForm(a: Access, tr: HTMLElement, cell: HTMLElement): void {
  const form = h(
    "form",
    { novalidate: true, "aria-label": "Report this access" },
    h("p", { class: "nhsuk-body-s" }, `You are reporting: ${formatDateTime(a.when)}, ${who(a)}. The privacy officer of ${a.org} will look into it.`),
    textArea(`note-${a.seq}`, "Anything you want to tell them (optional)"),
    h("div", { class: "nhsuk-button-group" }, submitButton("Report this access"), button("Cancel", () => { replace(cell, original); (original[0] as HTMLElement | undefined)?.focus(); }, "secondary")),
  );
  const original: Child[] = Array.from(cell.childNodes);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const note = value(form, `note-${a.seq}`);
    if (note.length > 1000) return showErrors(form, [{ field: `note-${a.seq}`, message: "Your note must be 1000 characters or fewer" }]);
    try {
      const params = note ? [{ name: "note", valueString: note }] : [];
      await call(`/fhir/AuditEvent/${encodeURIComponent(a.seq)}/$report`, { json: { resourceType: "Parameters", parameter: params } });
      replace(cell, tag("Reported", "orange"), h("span", { class: "nhsuk-u-visually-hidden", role: "status" }, " Reported to the privacy officer"));
    } catch (e) {
      showErrors(form, [{ field: "", message: e instanceof ApiError ? e.message : "The report could not be sent" }]);
    }
  });
  replace(cell, form);
  tr.scrollIntoView({ block: "nearest" });
  (form.querySelector("textarea") as HTMLTextAreaElement).focus();
}
