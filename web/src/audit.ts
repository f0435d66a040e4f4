// Reading the server's AuditEvents (docs/audit.md) into what people ask:
// when, who, from where, what, why, and whether it was an emergency.
import type { AuditEvent, Organization } from "fhir/r4";
import { call } from "./api";
import { roleName } from "./format";

export interface Access {
  seq: string;
  when: string;
  user: string;
  userName: string;
  role: string;
  org: string;
  automated: boolean;
  action: string;
  purpose: string;
  justification: string;
  emergency: boolean;
  selfClaimed: boolean;
  permissionToView: boolean;
  refused: boolean;
  patients: string[];
  resources: string[];
  query: string;
  alerts: string[];
  reports: string;
  reviewOutcome: string;
  note: string;
  requestId: string;
}

export function parseAccess(ev: AuditEvent): Access {
  const user = ev.agent?.[0];
  const org = ev.agent?.[1];
  const details = new Map<string, string[]>();
  const patients: string[] = [];
  const resources: string[] = [];
  let query = "";
  for (const e of ev.entity ?? []) {
    const role = e.role?.code;
    if (role === "1" && e.what?.identifier?.value) patients.push(e.what.identifier.value);
    if (role === "4" && e.what?.reference) resources.push(e.what.reference);
    if (role === "24" && e.description) query = e.description;
    for (const d of e.detail ?? []) {
      const list = details.get(d.type) ?? [];
      if (d.valueString !== undefined && !list.includes(d.valueString)) list.push(d.valueString);
      details.set(d.type, list);
    }
  }
  const one = (k: string) => details.get(k)?.[0] ?? "";
  const roleCode = user?.role?.[0]?.coding?.[0]?.code ?? "";
  return {
    seq: ev.id ?? "",
    when: ev.recorded,
    user: user?.who?.identifier?.value ?? "",
    userName: user?.name ?? user?.who?.display ?? "",
    role: roleCode,
    org: org?.who?.identifier?.value ?? "",
    automated: user?.type?.coding?.[0]?.code === "dataprocessor" || roleCode === "system",
    // Our own action name (summary, summary-index...) when the server gives
    // one beside FHIR's restful-interaction code.
    action: ev.subtype?.find((c) => c.system === "urn:opencrs:audit-action")?.code ?? ev.subtype?.[0]?.code ?? "",
    purpose: user?.purposeOfUse?.[0]?.coding?.[0]?.code ?? "",
    justification: one("justification"),
    emergency: one("break-glass") === "true",
    selfClaimed: one("legitimate-relationship") === "self-claimed",
    permissionToView: one("permission-to-view") === "granted",
    refused: ev.outcome !== "0",
    patients,
    resources,
    query,
    alerts: details.get("alert") ?? [],
    reports: one("reports"),
    reviewOutcome: one("review-outcome"),
    note: one("note"),
    requestId: one("request-id"),
  };
}

const TYPE_WORDS: Record<string, string> = {
  Patient: "personal details",
  AllergyIntolerance: "allergies",
  MedicationStatement: "medication",
  MedicationRequest: "medication",
  Medication: "medication",
  Condition: "problems and diagnoses",
  Procedure: "procedures",
  Immunization: "immunisations",
  Consent: "sharing choices",
  Bundle: "Summary Care Record",
  DocumentReference: "Summary Care Record index",
  AuditEvent: "access log",
  Provenance: "record history",
  Organization: "organisation details",
};

export function whatWasSeen(a: Access): string {
  const verb: Record<string, string> = {
    read: "Viewed", vread: "Viewed", search: "Searched", summary: "Viewed Summary Care Record",
    "summary-index": "Checked whether a Summary Care Record exists", create: "Added", update: "Changed",
    patch: "Changed", delete: "Removed", purge: "Erased (your sharing choice)", transaction: "Changed",
    batch: "Changed", everything: "Viewed whole record",
    "everything-federated": "Viewed whole record, from every node holding it", import: "Loaded records", "patient-report": "Reported an access",
    "alert-review": "Reviewed an alert", history: "Viewed history", "summary-upload": "Uploaded Summary Care Record",
    operation: "Used an operation", "audit-verify": "Verified the audit log",
  };
  const types = [...new Set(a.resources.map((r) => TYPE_WORDS[r.split("/")[0]] ?? r.split("/")[0]))];
  if (a.action === "search" && a.query) types.push(TYPE_WORDS[a.query.split("?")[0]] ?? a.query.split("?")[0]);
  const uniq = [...new Set(types)].filter((t) => !(a.action === "summary" && t === "Summary Care Record"));
  const base = verb[a.action] ?? a.action;
  const text = uniq.length ? `${base}: ${uniq.join(", ")}` : base;
  return a.refused ? `${text} (refused)` : text;
}

export const PURPOSES: Record<string, string> = {
  TREAT: "Care and treatment",
  ETREAT: "Emergency care",
  PATRQT: "Your own request",
  HOPERAT: "Running the service",
  HRESCH: "Research",
};

export function why(a: Access): string {
  const p = PURPOSES[a.purpose] ?? (a.automated ? "Automated processing" : "Not stated");
  return a.justification ? `${p}. Reason given: ${a.justification}` : p;
}

export function who(a: Access): string {
  if (a.automated) return `Automated system (${a.user || "unnamed"})`;
  return `${a.userName || a.user || "Unknown user"}, ${roleName(a.role)}`;
}

export const ALERT_NAMES: Record<string, string> = {
  "break-glass": "Emergency access",
  "self-claimed": "Self-claimed relationship",
  "sealed-access": "Sealed record access",
  vip: "Celebrity or staff record",
  volume: "Unusual volume",
  "patient-reported": "Reported by patient",
};

const orgNames = new Map<string, Promise<string>>();

// The organisation's name from the national record (cached), else its code.
export function orgName(ods: string): Promise<string> {
  if (!ods) return Promise.resolve("");
  let p = orgNames.get(ods);
  if (!p) {
    p = call<Organization>(`/fhir/Organization/${encodeURIComponent(ods)}`)
      .then((o) => (o.name ? `${o.name} (${ods})` : ods))
      .catch(() => ods);
    orgNames.set(ods, p);
  }
  return p;
}
