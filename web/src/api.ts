// Talking to the server: every /fhir request carries the session's bearer
// token in a header, search criteria travel in request bodies (POST
// _search), never in URLs (only FHIR's instance paths, such as
// Patient/{nhs}/$summary, name the patient). Errors arrive as OperationOutcomes.
import type { Bundle, BundleEntry, FhirResource, OperationOutcome } from "fhir/r4";
import * as session from "./session";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly outcome?: OperationOutcome,
  ) {
    super(message);
  }
}

// Called when the server refuses the token (expired, revoked): sign out.
let onUnauthorised: () => void = () => {};
export function setOnUnauthorised(fn: () => void): void {
  onUnauthorised = fn;
}

function outcomeText(o: OperationOutcome | undefined): string {
  const issue = o?.issue?.[0];
  return issue?.diagnostics ?? issue?.details?.text ?? "";
}

interface Options {
  method?: string;
  headers?: Record<string, string>;
  json?: unknown;
  // A form body; pairs when a name repeats (date=ge...&date=le...).
  form?: Record<string, string> | [string, string][];
}

async function request(url: string, opts: Options = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/fhir+json", ...opts.headers };
  const s = session.load();
  if (s && url.startsWith("/fhir")) headers.Authorization = `Bearer ${s.token}`;
  let body: string | undefined;
  if (opts.json !== undefined) {
    headers["Content-Type"] = url.startsWith("/fhir") ? "application/fhir+json" : "application/json";
    body = JSON.stringify(opts.json);
  } else if (opts.form) {
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams(opts.form).toString();
  }
  return fetch(url, {
    method: opts.method ?? (body === undefined ? "GET" : "POST"),
    headers,
    body,
    cache: "no-store",
    credentials: "omit",
    referrerPolicy: "no-referrer",
  });
}

export async function call<T>(url: string, opts: Options = {}): Promise<T> {
  let res: Response;
  try {
    res = await request(url, opts);
  } catch {
    throw new ApiError(0, "The service could not be reached. Check your connection and try again.");
  }
  let data: unknown = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const outcome =
      data && (data as FhirResource).resourceType === "OperationOutcome" ? (data as OperationOutcome) : undefined;
    if (res.status === 401 && url.startsWith("/fhir")) onUnauthorised();
    throw new ApiError(res.status, outcomeText(outcome) || `The request failed (HTTP ${res.status})`, outcome);
  }
  return data as T;
}

// The keyset cursor of a searchset's next page ("" on the last page), to
// ask for it with POST _search (the next link's URL carries the criteria).
export function nextCursor(bundle: Bundle): string {
  const next = bundle.link?.find((l) => l.relation === "next")?.url;
  if (!next) return "";
  try {
    return new URL(next, location.href).searchParams.get("_cursor") ?? "";
  } catch {
    return "";
  }
}

export function entries<T extends FhirResource>(bundle: Bundle | null | undefined, type: T["resourceType"]): T[] {
  return (bundle?.entry ?? [])
    .map((e: BundleEntry) => e.resource)
    .filter((r): r is T => !!r && r.resourceType === type);
}
