// Who is signed in. The token lives in memory and in this tab's session
// storage only (never in a URL or local storage); signing out clears both.
export interface User {
  id: string;
  name: string;
  role: string;
  org?: string;
  patient?: string;
  activities?: string[]; // the token's national RBAC activities, when it lists them
}

export interface Session {
  token: string;
  user: User;
}

const KEY = "opencrs.session";
let current: Session | null = null;

export function load(): Session | null {
  if (current) return current;
  try {
    const raw = sessionStorage.getItem(KEY);
    current = raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    current = null;
  }
  return current;
}

export function save(s: Session): void {
  current = s;
  sessionStorage.setItem(KEY, JSON.stringify(s));
}

export function clear(): void {
  current = null;
  sessionStorage.removeItem(KEY);
}

// What a pasted token says about its user (for display and choosing the
// view only: the server checks the token on every request).
export function userFromToken(token: string): User | null {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const json = atob(parts[1].replace(/-/g, "+").replace(/_/g, "/"));
    const claims = JSON.parse(json) as Record<string, unknown>;
    const str = (k: string) => (typeof claims[k] === "string" ? (claims[k] as string) : undefined);
    const role = str("role");
    if (!role) return null;
    const activities = Array.isArray(claims.activities) ? claims.activities.filter((a): a is string => typeof a === "string") : undefined;
    return { id: str("sub") ?? "", name: str("name") ?? str("sub") ?? "", role, org: str("org"), patient: str("patient"), activities };
  } catch {
    return null;
  }
}

export function isPatient(u: User): boolean {
  return u.role === "patient";
}

// Whether the user's role or activities include viewing clinical records
// (B0370, or an activity that includes it; docs/access.md). A guide for
// what to offer: the server decides.
export function canViewClinical(u: User): boolean {
  if (u.activities) return u.activities.some((a) => ["B0370", "B0168", "B0083", "X0371"].includes(a));
  return ["R8000", "R8001", "R8003"].includes(u.role);
}

export function isPrivacyOfficer(u: User): boolean {
  return u.role === "R0001" || u.role === "R5105";
}
