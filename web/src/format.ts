// Clinical display rules of the NHS Common User Interface: names, dates,
// ages, NHS numbers. Pure functions.
import type { HumanName, Patient } from "fhir/r4";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

// "SMITH, Jane Mary (Mrs)": family name in capitals, given names, title.
export function formatName(name: HumanName | undefined): string {
  if (!name) return "Name not known";
  const family = (name.family ?? "").toUpperCase();
  const given = (name.given ?? []).join(" ");
  const title = (name.prefix ?? []).join(" ");
  let s = family && given ? `${family}, ${given}` : family || given || name.text || "Name not known";
  if (title) s += ` (${title})`;
  return s;
}

// The name in use: official first, then usual, then the first that is not old.
export function currentName(patient: Patient): HumanName | undefined {
  const names = (patient.name ?? []).filter((n) => n.use !== "old" && !n.period?.end);
  return (
    names.find((n) => n.use === "official") ?? names.find((n) => n.use === "usual") ?? names[0] ??
    patient.name?.[0]
  );
}

function parseDate(iso: string): { y: number; m: number; d: number } | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  if (!m) return null;
  return { y: Number(m[1]), m: Number(m[2]), d: Number(m[3]) };
}

// "14-Jul-1945"; a partial date keeps what it has ("Jul-1945", "1945").
export function formatDate(iso: string | undefined): string {
  if (!iso) return "Not known";
  const p = parseDate(iso);
  if (p) return `${String(p.d).padStart(2, "0")}-${MONTHS[p.m - 1]}-${p.y}`;
  const ym = /^(\d{4})-(\d{2})$/.exec(iso);
  if (ym) return `${MONTHS[Number(ym[2]) - 1]}-${ym[1]}`;
  return iso;
}

// Age as the CUI shows it: years from 2, months under 2, weeks under 1 month... kept simple:
// "81y", "14m", "3w", "5d".
export function formatAge(birthIso: string, today: Date = new Date()): string {
  const b = parseDate(birthIso);
  if (!b) return "";
  const t = { y: today.getFullYear(), m: today.getMonth() + 1, d: today.getDate() };
  let years = t.y - b.y;
  if (t.m < b.m || (t.m === b.m && t.d < b.d)) years -= 1;
  if (years >= 2) return `${years}y`;
  let months = (t.y - b.y) * 12 + (t.m - b.m) - (t.d < b.d ? 1 : 0);
  if (months >= 1) return `${months}m`;
  const days = Math.floor((Date.UTC(t.y, t.m - 1, t.d) - Date.UTC(b.y, b.m - 1, b.d)) / 86400000);
  return days >= 7 ? `${Math.floor(days / 7)}w` : `${Math.max(days, 0)}d`;
}

// "14-Jul-1945 (81y)".
export function formatBirthDate(iso: string | undefined, today: Date = new Date()): string {
  if (!iso) return "Not known";
  const age = formatAge(iso, today);
  return age ? `${formatDate(iso)} (${age})` : formatDate(iso);
}

// "14-Jul-2026 09:05" in the browser's time zone.
export function formatDateTime(instant: string): string {
  const d = new Date(instant);
  if (Number.isNaN(d.getTime())) return instant;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(d.getDate())}-${MONTHS[d.getMonth()]}-${d.getFullYear()} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function formatGender(g: string | undefined): string {
  switch (g) {
    case "female": return "Female";
    case "male": return "Male";
    case "other": return "Other";
    case "unknown": return "Not known";
    default: return "Not known";
  }
}

// Digits of what a user typed as an NHS number (spaces and dashes allowed).
export function nhsDigits(typed: string): string {
  return typed.replace(/[\s-]/g, "");
}

// "943 476 5919" (3-3-4); anything that is not 10 digits is returned as typed.
export function formatNhsNumber(nhs: string): string {
  const d = nhsDigits(nhs);
  if (!/^\d{10}$/.test(d)) return nhs;
  return `${d.slice(0, 3)} ${d.slice(3, 6)} ${d.slice(6)}`;
}

// Groups digits as they are typed: "9434" -> "943 4".
export function groupNhsDigits(typed: string): string {
  const d = typed.replace(/\D/g, "").slice(0, 10);
  return [d.slice(0, 3), d.slice(3, 6), d.slice(6)].filter((s) => s).join(" ");
}

// Modulus 11: the weights 10..2 over the first nine digits; 11 - (sum mod
// 11) is the check digit, 11 means 0 and 10 means the number is invalid.
export function isValidNhsNumber(nhs: string): boolean {
  const d = nhsDigits(nhs);
  if (!/^\d{10}$/.test(d)) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(d[i]) * (10 - i);
  let check = 11 - (sum % 11);
  if (check === 11) check = 0;
  return check !== 10 && check === Number(d[9]);
}

// The message for an NHS number field as typed, or "" when fine (or empty).
export function nhsNumberError(typed: string): string {
  const d = nhsDigits(typed);
  if (d === "") return "";
  if (/\D/.test(d)) return "NHS number must only include numbers 0 to 9";
  if (d.length !== 10) return "NHS number must be 10 digits";
  if (!isValidNhsNumber(d)) return "Enter a valid NHS number: the check digit does not match";
  return "";
}

export const ROLE_NAMES: Record<string, string> = {
  R8000: "Clinical practitioner",
  R8001: "Nurse",
  R8003: "Health professional",
  R8008: "Admin and clinical support",
  R0001: "Privacy officer",
  R5105: "Caldicott guardian",
  patient: "Patient",
  system: "Automated system",
};

export function roleName(code: string | undefined): string {
  if (!code) return "Unknown role";
  return ROLE_NAMES[code] ?? code;
}
