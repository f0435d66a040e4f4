// The privacy officer's view: alerts for their organisation with filters,
// one alert's full audit context (and, for a patient's report, the access
// reported), the review outcome, and whether the audit chain verifies.
import type { AuditEvent, Bundle, BundleEntry, Parameters } from "fhir/r4";
import { ApiError, call, nextCursor } from "../api";
import { ALERT_NAMES, orgName, parseAccess, PURPOSES, type Access, whatWasSeen, who } from "../audit";
import { h, replace } from "../dom";
import { formatDateTime, formatNhsNumber, nhsDigits, nhsNumberError, roleName } from "../format";
import type { User } from "../session";
import {
  backLink, button, checked, heading, inset, loading, nhsNumberField, notice, radios, rendered, showErrors, showView, submitButton, summaryList, tag, textArea, textField, value,
} from "../ui";

// The alert list's filters, all applied by the server (docs/audit.md,
// "Alerts"): they travel in the POST body, never in a URL.
interface Filters {
  status: "open" | "all";
  type: string; // an alert code, or ""
  patient: string; // NHS number digits, or ""
  user: string; // the user's id or part of their name, or ""
  from: string; // yyyy-mm-dd, or ""
  to: string; // yyyy-mm-dd (inclusive), or ""
}

const NO_FILTERS: Filters = { status: "open", type: "", patient: "", user: "", from: "", to: "" };
let filters: Filters = NO_FILTERS;

// Sign-out: the next user of this tab must not inherit this one's filters.
export function forgetFilters(): void {
  filters = NO_FILTERS;
}

function filterForm(f: Filters, cursor: string): [string, string][] {
  const form: [string, string][] = [["alert", "true"], ["_count", String(ALERT_PAGE)]];
  if (f.status === "open") form.push(["status", "open"]);
  if (f.type) form.push(["code", f.type]);
  if (f.patient) form.push(["patient", f.patient]);
  if (f.user) form.push(["user", f.user]);
  if (f.from) form.push(["date", `ge${f.from}`]);
  if (f.to) form.push(["date", `le${f.to}`]);
  if (cursor) form.push(["_cursor", cursor]);
  return form;
}

interface Alert {
  access: Access;
  reviewed: boolean;
  reviewLocation: string;
}

function parseAlerts(b: Bundle): Alert[] {
  return (b.entry ?? [])
    .filter((e: BundleEntry) => e.resource?.resourceType === "AuditEvent")
    .map((e) => ({
      access: parseAccess(e.resource as AuditEvent),
      reviewed: e.response?.status === "reviewed",
      reviewLocation: e.response?.location ?? "",
    }));
}

async function chainStatus(container: HTMLElement): Promise<void> {
  try {
    const p = await call<Parameters>("/fhir/AuditEvent/$verify");
    const get = (n: string) => p.parameter?.find((x) => x.name === n);
    const intact = get("intact")?.valueBoolean === true;
    replace(
      container,
      h("h2", { class: "nhsuk-heading-m" }, "Audit log"),
      intact
        ? h("p", { class: "nhsuk-body" }, tag("Verified", "green"), ` The audit log is intact: ${get("records")?.valueInteger ?? 0} records checked against their hash chain and ${get("checkpoints")?.valueInteger ?? 0} signed checkpoints.`)
        : h("p", { class: "nhsuk-body", role: "alert" }, tag("Broken", "red"), ` The audit log does not verify from record ${get("firstBadSeq")?.valueInteger ?? "?"}: ${get("reason")?.valueString ?? ""}. Report this at once.`),
    );
  } catch (e) {
    replace(container, h("h2", { class: "nhsuk-heading-m" }, "Audit log"), h("p", { class: "nhsuk-body" }, tag("Unknown", "grey"), ` The audit log could not be checked: ${e instanceof ApiError ? e.message : "no answer"}`));
  }
}

export async function officerHome(user: User, message = ""): Promise<void> {
  const chain = h("section", { "aria-live": "polite" }, loading("Checking the audit log…"));
  const list = h("div", null, loading("Loading alerts…"));
  const form = h(
    "form",
    { novalidate: true, class: "crs-filters" },
    h(
      "div",
      { class: "nhsuk-grid-row" },
      h("div", { class: "nhsuk-grid-column-one-half" }, selectField("filter-status", "Status", [["open", "Open alerts"], ["all", "All alerts"]], filters.status)),
      h("div", { class: "nhsuk-grid-column-one-half" }, selectField("filter-type", "Alert type", [["", "All types"], ...Object.entries(ALERT_NAMES)], filters.type)),
    ),
    h(
      "div",
      { class: "nhsuk-grid-row" },
      h("div", { class: "nhsuk-grid-column-one-half" }, nhsNumberField("filter-patient", "Patient's NHS number (optional)")),
      h("div", { class: "nhsuk-grid-column-one-half" }, textField("filter-user", "User name or id (optional)", { width: 20 })),
    ),
    h(
      "div",
      { class: "nhsuk-grid-row" },
      h("div", { class: "nhsuk-grid-column-one-half" }, textField("filter-from", "From date (optional)", { type: "date" })),
      h("div", { class: "nhsuk-grid-column-one-half" }, textField("filter-to", "To date (optional)", { type: "date" })),
    ),
    submitButton("Apply filters", "secondary"),
  );
  const restore = (id: string, v: string) => ((form.querySelector(`#${id}`) as HTMLInputElement).value = v);
  restore("filter-patient", filters.patient ? formatNhsNumber(filters.patient) : "");
  restore("filter-user", filters.user);
  restore("filter-from", filters.from);
  restore("filter-to", filters.to);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const patient = value(form, "filter-patient");
    const from = value(form, "filter-from");
    const to = value(form, "filter-to");
    const errors: { field: string; message: string }[] = [];
    const error = nhsNumberError(patient);
    if (error) errors.push({ field: "filter-patient", message: error });
    if (from && to && from > to) errors.push({ field: "filter-to", message: "The to date must be the same as or after the from date" });
    showErrors(form, errors);
    if (errors.length) return;
    filters = {
      status: value(form, "filter-status") === "all" ? "all" : "open",
      type: value(form, "filter-type"),
      patient: nhsDigits(patient),
      user: value(form, "filter-user").trim(),
      from,
      to,
    };
    void loadList(user, list);
  });
  showView(
    "Alerts",
    heading("Alerts to review", `Privacy officer, ${user.org ?? ""}`),
    message ? notice(message, "success") : null,
    chain,
    h("h2", { class: "nhsuk-heading-m" }, "Alerts"),
    form,
    list,
  );
  await Promise.all([chainStatus(chain), loadList(user, list)]);
}

function selectField(id: string, label: string, options: [string, string][], selected: string): HTMLElement {
  return h(
    "div",
    { class: "nhsuk-form-group" },
    h("label", { class: "nhsuk-label", for: id }, label),
    h("select", { class: "nhsuk-select", id, name: id }, options.map(([v, t]) => h("option", { value: v, selected: v === selected }, t))),
  );
}

const ALERT_PAGE = 50;

function alertRow(user: User, a: Alert): HTMLElement {
  return h(
    "tr",
    { class: "nhsuk-table__row" },
    h("td", { class: "nhsuk-table__cell crs-nowrap" }, formatDateTime(a.access.when)),
    h("td", { class: "nhsuk-table__cell" }, a.access.alerts.map((x) => [tag(ALERT_NAMES[x] ?? x, x === "break-glass" || x === "patient-reported" ? "red" : "orange"), " "])),
    h("td", { class: "nhsuk-table__cell" }, a.access.role === "patient" ? "The patient" : who(a.access)),
    h("td", { class: "nhsuk-table__cell crs-nowrap" }, a.access.patients.map(formatNhsNumber).join(", ") || "None"),
    h("td", { class: "nhsuk-table__cell" }, a.reviewed ? tag("Reviewed", "green") : tag("Open", "blue")),
    h("td", { class: "nhsuk-table__cell crs-row-actions" }, h("button", { type: "button", class: "nhsuk-button nhsuk-button--secondary nhsuk-button--small", onclick: () => void alertView(user, a) }, a.reviewed ? "View" : "Review", h("span", { class: "nhsuk-u-visually-hidden" }, ` alert from ${formatDateTime(a.access.when)}`))),
  );
}

// The alerts matching the filters, a page at a time (newest first).
async function loadList(user: User, list: HTMLElement): Promise<void> {
  replace(list, loading("Loading alerts…"));
  const tbody = h("tbody", { class: "nhsuk-table__body" });
  const status = h("p", { class: "nhsuk-body", role: "status" });
  const table = h(
    "table",
    { class: "nhsuk-table" },
    h("caption", { class: "nhsuk-table__caption nhsuk-u-visually-hidden" }, "Alerts, newest first"),
    h("thead", { class: "nhsuk-table__head" }, h("tr", null, ["Date and time", "Alert", "User", "Patient", "Status", ""].map((t) => h("th", { scope: "col", class: "nhsuk-table__header" }, t || h("span", { class: "nhsuk-u-visually-hidden" }, "Action"))))),
    tbody,
  );
  const more = h("div");
  let shown = 0;
  const show = async (cursor: string): Promise<void> => {
    const b = await call<Bundle>("/fhir/AuditEvent/_search", { form: filterForm(filters, cursor) });
    const alerts = parseAlerts(b);
    const next = nextCursor(b);
    tbody.append(...alerts.map((a) => alertRow(user, a)));
    shown += alerts.length;
    table.hidden = shown === 0;
    const filtered = filters.type || filters.patient || filters.user || filters.from || filters.to;
    const none = (filters.status === "open" ? "There are no open alerts" : "There are no alerts") + (filtered ? " matching the filters" : "");
    status.textContent = (shown === 0 ? none : shown === 1 ? "1 alert" : `${shown} alerts`) + (next ? ". Older alerts follow." : "");
    replace(more, next ? button("Show older alerts", async () => {
      replace(more, loading("Loading older alerts…"));
      const before = tbody.rows.length;
      try {
        await show(next);
      } catch (e) {
        replace(more, h("p", { class: "nhsuk-body", role: "alert" }, e instanceof ApiError ? e.message : "Older alerts could not be loaded"));
        return;
      }
      const first = tbody.rows[before]?.cells[0] ?? status;
      first.setAttribute("tabindex", "-1");
      first.focus();
    }, "secondary") : null);
  };
  try {
    await show("");
    replace(list, status, table, more);
    rendered("alerts");
  } catch (e) {
    replace(list, h("p", { class: "nhsuk-body", role: "alert" }, e instanceof ApiError ? e.message : "The alerts could not be loaded"));
  }
}

async function context(a: Access): Promise<HTMLElement> {
  const org = await orgName(a.org);
  return summaryList([
    ["When", formatDateTime(a.when)],
    ["Who", a.role === "patient" ? "The patient" : `${a.userName || "Unnamed"} (user ${a.user || "unknown"})`],
    ["Role", roleName(a.role)],
    ["Organisation", org || "None"],
    ["What", whatWasSeen(a)],
    ["Purpose", PURPOSES[a.purpose] ?? (a.purpose || "Not stated")],
    ["Reason given", a.justification || "None"],
    ["Basis", [a.emergency ? "Emergency access" : "", a.selfClaimed ? "Self-claimed relationship" : "", a.permissionToView ? "Patient's permission to view" : ""].filter(Boolean).join(", ") || "Recorded relationship"],
    ["Patient", a.patients.map(formatNhsNumber).join(", ") || "None"],
    ["Records touched", a.resources.length ? h("ul", { class: "nhsuk-list" }, a.resources.map((r) => h("li", null, r))) : "None"],
    ["Search", a.query || "None"],
    ["Alerts", a.alerts.map((x) => ALERT_NAMES[x] ?? x).join(", ") || "None"],
    ["Audit record", `${a.seq} (request ${a.requestId || "unknown"})`],
    ...(a.note ? ([["Note", a.note]] as [string, string][]) : []),
  ]);
}

const OUTCOMES: Record<string, string> = {
  appropriate: "Access was appropriate",
  inappropriate: "Access was not appropriate: followed up with the user",
  escalated: "Escalated, for example to the Caldicott guardian",
};

async function alertView(user: User, alert: Alert): Promise<void> {
  const a = alert.access;
  const body = h("div", null, loading());
  showView("Alert", backLink("Back to alerts", () => void officerHome(user)), heading(a.alerts.map((x) => ALERT_NAMES[x] ?? x).join(", "), "Alert"), body);
  const parts: HTMLElement[] = [h("h2", { class: "nhsuk-heading-m" }, a.action === "patient-report" ? "The patient's report" : "The access"), await context(a)];
  if (a.reports) {
    try {
      const reported = parseAccess(await call<AuditEvent>(`/fhir/AuditEvent/${encodeURIComponent(a.reports)}`));
      parts.push(h("h2", { class: "nhsuk-heading-m" }, "The access the patient does not recognise"), await context(reported));
    } catch {
      parts.push(inset(h("p", null, `The reported access (record ${a.reports}) could not be loaded.`)));
    }
  }
  if (alert.reviewed) {
    let outcome = "Reviewed";
    try {
      const review = parseAccess(await call<AuditEvent>(`/fhir/${alert.reviewLocation}`));
      outcome = `${OUTCOMES[review.reviewOutcome] ?? "Reviewed"} – by ${review.userName || review.user}, ${formatDateTime(review.when)}${review.note ? `. Note: ${review.note}` : ""}`;
    } catch {
      // the outcome stays "Reviewed"
    }
    parts.push(h("h2", { class: "nhsuk-heading-m" }, "Review"), h("p", { class: "nhsuk-body" }, outcome));
    replace(body, ...parts);
    return;
  }
  const form = h(
    "form",
    { novalidate: true },
    radios("outcome", "Review outcome", Object.entries(OUTCOMES).map(([v, label]) => ({ value: v, label })), { legendSize: "m" }),
    textArea("review-note", "Notes (optional)", "What you found and did. Kept in the audit log."),
    submitButton("Record review"),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const outcome = checked(form, "outcome");
    const note = value(form, "review-note");
    if (!outcome) return showErrors(form, [{ field: "outcome", message: "Select the outcome of your review" }]);
    try {
      const parameter = [{ name: "outcome", valueCode: outcome }, ...(note ? [{ name: "note", valueString: note }] : [])];
      await call(`/fhir/AuditEvent/${encodeURIComponent(a.seq)}/$review`, { json: { resourceType: "Parameters", parameter } });
      await officerHome(user, `Alert ${a.seq} reviewed: ${OUTCOMES[outcome]}`);
    } catch (e) {
      showErrors(form, [{ field: "", message: e instanceof ApiError ? e.message : "The review could not be recorded" }]);
    }
  });
  parts.push(form);
  replace(body, ...parts);
}
