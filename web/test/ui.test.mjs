// The web UI in a real browser against a real crs node (demo mode): the
// issue's scenarios end to end, axe-core on every view, screenshots saved.
// Run by ctest (tests/CMakeLists.txt) or `npm test` after `npm run build`.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { expectAccessible, launch, openPage, renderDelay, screenshot } from "./browser.mjs";

// A view renders within 100 ms of its API response (issue 8).
async function expectFastRender(page, urlPart, view) {
  const ms = await renderDelay(page, urlPart, view);
  console.log(`render ${view}: ${ms.toFixed(1)} ms after its response`);
  assert.ok(ms >= 0 && ms < 100, `${view} rendered ${ms} ms after its response`);
}
import { startServer } from "./server.mjs";

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

function age(birth) {
  const b = new Date(birth);
  const t = new Date();
  let y = t.getFullYear() - b.getFullYear();
  if (t.getMonth() < b.getMonth() || (t.getMonth() === b.getMonth() && t.getDate() < b.getDate())) y -= 1;
  return `${y}y`;
}

async function session(name) {
  const s = await openPage(browser, server.base);
  await s.page.getByRole("heading", { name: "Sign in to OpenCRS" }).waitFor();
  if (name) await signIn(s.page, name);
  return s;
}

async function signIn(page, name) {
  await page.getByLabel(name, { exact: true }).check();
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.locator("#crs-user").getByRole("button", { name: "Sign out" }).waitFor();
}

async function done(s) {
  assert.deepEqual(s.problems, [], "no third-party request, CSP violation or script error");
  assert.equal(new URL(s.page.url()).pathname + new URL(s.page.url()).search + new URL(s.page.url()).hash, "/", "nothing in the address bar");
  await s.context.close();
}

async function trace(page, family, day, month, year) {
  await page.getByLabel("Last name").fill(family);
  await page.getByLabel("Day").fill(day);
  await page.getByLabel("Month").fill(month);
  await page.getByLabel("Year").fill(year);
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("table").waitFor();
}

test("sign-in page, token sign-in and sign-out", async () => {
  const s = await session();
  const { page } = s;
  await expectAccessible(page, "sign-in");
  await screenshot(page, "sign-in");
  await page.getByRole("button", { name: "Sign in with token" }).click();
  await page.getByText("Paste a token").first().waitFor();
  await expectAccessible(page, "sign-in with errors");
  const token = await page.evaluate(async () => {
    const r = await fetch("/demo/token", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ user: "demo-gp" }) });
    return (await r.json()).token;
  });
  await page.getByLabel("Or sign in with a token").fill(token);
  await page.getByRole("button", { name: "Sign in with token" }).click();
  await page.getByRole("heading", { name: "Find a patient" }).waitFor();
  assert.equal(await page.evaluate(() => localStorage.length), 0, "nothing in local storage");
  assert.equal(await page.evaluate(() => document.activeElement?.tagName), "H1", "focus starts at the heading");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("heading", { name: "Sign in to OpenCRS" }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, "signing out forgets the token");
  await done(s);
});

test("signing out forgets the searches and filters of the user who signed out", async () => {
  const s = await session("Dr Asha Patel");
  const { page } = s;
  await trace(page, "Smith", "14", "7", "1945");
  await page.getByRole("cell", { name: "SMITH, Jane Mary (Mrs)", exact: true }).waitFor();
  await page.locator("#crs-user").getByRole("button", { name: "Sign out" }).click();
  await signIn(page, "Jo Hughes");
  await page.getByRole("heading", { name: "Find a patient" }).waitFor();
  assert.equal(await page.getByLabel("Last name").inputValue(), "", "the last user's criteria are gone");
  assert.equal(await page.getByText("SMITH", { exact: false }).count(), 0, "the last user's results are gone");
  await page.locator("#crs-user").getByRole("button", { name: "Sign out" }).click();
  await signIn(page, "Lee Morgan");
  await page.getByLabel("Patient's NHS number (optional)").fill("9990000042");
  await page.getByLabel("User name or id (optional)").fill("reid");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await page.locator("#crs-user").getByRole("button", { name: "Sign out" }).click();
  await signIn(page, "Lee Morgan");
  await page.getByRole("heading", { name: /Alerts to review/ }).waitFor();
  assert.equal(await page.getByLabel("Patient's NHS number (optional)").inputValue(), "", "filters start afresh");
  assert.equal(await page.getByLabel("User name or id (optional)").inputValue(), "");
  await done(s);
});

test("keyboard only: sign in and trace", async () => {
  const s = await session();
  const { page } = s;
  await page.locator("#demo-user").focus();
  await page.keyboard.press("Space");
  await page.keyboard.press("Tab");
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Find a patient" }).waitFor();
  await page.locator("#family").focus();
  await page.keyboard.type("Patel");
  for (const [field, text] of [["#dob-day", "2"], ["#dob-month", "11"], ["#dob-year", "1972"]]) {
    await page.locator(field).focus();
    await page.keyboard.type(text);
  }
  await page.keyboard.press("Enter");
  await page.getByRole("cell", { name: "PATEL, Ravi Kumar", exact: true }).waitFor();
  await page.getByRole("button", { name: /Open record for PATEL, Ravi Kumar/ }).focus();
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Patient record" }).waitFor();
  await page.getByText("No Summary Care Record is held for this patient.").waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Patient record", "focus moves to the new view");
  // Back, then by NHS number to a record with a summary: permission to view by keyboard.
  await page.getByRole("button", { name: "Back to search results" }).focus();
  await page.keyboard.press("Enter");
  await page.locator("#nhs").focus();
  await page.keyboard.type("9990000042");
  await page.keyboard.press("Enter");
  await page.getByRole("button", { name: /Open record for SMITH/ }).focus();
  await page.keyboard.press("Enter");
  await page.getByText("Has the patient given permission to view their record?").waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.id), "ptv", "focus on the question's first answer");
  await page.keyboard.press("Space");
  await page.keyboard.press("Tab");
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Known allergies", exact: true }).waitFor();
  await done(s);
});

test("an admin clerk may trace but is told they cannot view clinical records", async () => {
  const s = await session("Jo Hughes");
  const { page } = s;
  await trace(page, "Smith", "14", "7", "1945");
  await page.getByRole("button", { name: /Open record for SMITH/ }).click();
  await page.getByRole("heading", { name: "Allergies unavailable", exact: true }).waitFor();
  await page.getByText(/Your role does not allow you to view clinical records/).waitFor();
  await expectAccessible(page, "allergies unavailable");
  await done(s);
});

test("a GP traces a misspelt surname, records permission to view, sees allergies and medication", async () => {
  const s = await session("Dr Asha Patel");
  const { page } = s;
  await expectAccessible(page, "find a patient");
  // The NHS number's check digit is validated as it is typed.
  await page.getByLabel("NHS number (if you know it)").pressSequentially("9990000043");
  await page.locator("#nhs-live").getByText("check digit").waitFor();
  assert.equal(await page.getByLabel("NHS number (if you know it)").inputValue(), "999 000 0043");
  await page.getByLabel("NHS number (if you know it)").fill("");

  const searches = [];
  page.on("request", (r) => {
    if (r.url().includes("/Patient")) searches.push({ method: r.method(), url: r.url(), body: r.postData() ?? "" });
  });
  await trace(page, "Smyth", "14", "7", "1945");
  const trace0 = searches.find((r) => r.url.endsWith("/fhir/Patient/_search"));
  assert.ok(trace0, "the trace is a POST _search");
  assert.equal(trace0.method, "POST");
  assert.match(trace0.body, /_fuzzy-match=true/, "fuzzy by default");
  assert.match(trace0.body, /family=Smyth/);
  assert.ok(searches.every((r) => !r.url.includes("Smyth") && !r.url.includes("1945")), "criteria never in a URL");
  const row = page.getByRole("row", { name: /SMITH, Jane Mary \(Mrs\)/ });
  await row.waitFor();
  const cells = await row.getByRole("cell").allInnerTexts();
  assert.equal(cells[1], `14-Jul-1945 (${age("1945-07-14")})`);
  assert.equal(cells[3], "999 000 0042");
  assert.match(cells[5], /^\d+%$/, "a match score");
  await expectFastRender(page, "Patient/_search", "trace");
  await expectAccessible(page, "trace results");
  await screenshot(page, "clinician-trace");

  const summaries = [];
  page.on("request", (r) => r.url().includes("$summary") && summaries.push(r));
  await page.getByRole("button", { name: /Open record for SMITH, Jane Mary/ }).click();
  await page.getByText("Has the patient given permission to view their record?").waitFor();
  const banner = await page.locator(".crs-banner").innerText();
  const order = ["SMITH, Jane Mary (Mrs)", "Born", "Gender", "NHS No."].map((t) => banner.indexOf(t));
  assert.ok(order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1])), `banner order: ${banner}`);
  assert.match(banner, /999 000 0042/);
  assert.equal(summaries.length, 0, "nothing clinical is fetched before permission is recorded");
  assert.equal(await page.getByText("Known allergies").count(), 0);
  await expectAccessible(page, "permission to view");
  await screenshot(page, "clinician-permission");

  await page.getByLabel("Yes, the patient has given permission").check();
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("heading", { name: "Known allergies", exact: true }).waitFor();
  assert.equal(summaries[0].headers()["x-permission-to-view"], "granted");
  await page.getByRole("cell", { name: "Latex allergy" }).waitFor();
  const meds = await page.locator("#crs-meds ~ table tbody tr td:first-child").allInnerTexts();
  assert.ok(meds.includes("Paracetamol 500mg tablets") && meds.includes("Ramipril 5mg capsules"), meds.join("|"));
  await expectFastRender(page, "$summary", "summary");
  await expectAccessible(page, "summary");
  await screenshot(page, "clinician-summary");
  await done(s);
});

test("emergency access: the patient sees it with the reason and reports it; the privacy officer closes it", async () => {
  const reason = "Collapsed in resus, unresponsive";
  // The A&E doctor has no relationship with the patient.
  {
    const s = await session("Dr Tom Reid");
    const { page } = s;
    // Earlier demographic reads make the patient's log longer than a page.
    await page.evaluate(async () => {
      const { token } = JSON.parse(sessionStorage.getItem("opencrs.session"));
      for (let i = 0; i < 55; i++) await fetch("/fhir/Patient/9990000018", { headers: { Authorization: `Bearer ${token}` } });
    });
    await trace(page, "Morgan", "14", "3", "1958");
    await page.getByRole("button", { name: /Open record for MORGAN, Alice/ }).click();
    await page.getByLabel("No, or the patient cannot be asked").check();
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByText("Emergency access is audited").waitFor();
    await page.getByRole("button", { name: "Use emergency access" }).click();
    await page.getByRole("heading", { name: "There is a problem" }).waitFor();
    await page.getByRole("link", { name: "Select why you need emergency access" }).waitFor();
    await expectAccessible(page, "emergency access with errors");
    await screenshot(page, "clinician-emergency-access");
    const summaries = [];
    page.on("request", (r) => r.url().includes("$summary") && summaries.push(r));
    await page.getByLabel("The patient cannot give permission (for example, unconscious)").check();
    await page.getByLabel("Describe the reason").fill(reason);
    await page.getByRole("button", { name: "Use emergency access" }).click();
    await page.getByText("You are viewing this record with emergency access").waitFor();
    await page.getByRole("heading", { name: "Known allergies", exact: true }).waitFor();
    assert.equal(summaries[0].headers()["x-purpose-of-use"], "ETREAT");
    assert.match(summaries[0].headers()["x-access-justification"], /Collapsed in resus/);
    await expectAccessible(page, "summary with emergency access");

    // A sealed item of another patient is withheld, and only that is said.
    await page.getByRole("button", { name: "Back to search results" }).click();
    await page.getByLabel("Last name").fill("Smith");
    await page.getByLabel("Day").fill("14");
    await page.getByLabel("Month").fill("7");
    await page.getByLabel("Year").fill("1945");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("button", { name: /Open record for SMITH, Jane Mary/ }).click();
    await page.getByLabel("No, or the patient cannot be asked").check();
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByLabel("Urgent clinical need and the patient cannot be asked").check();
    await page.getByLabel("Describe the reason").fill("Anaphylaxis in the waiting room");
    await page.getByRole("button", { name: "Use emergency access" }).click();
    await page.getByText("Some information in this record is sealed and has been withheld").waitFor();
    assert.equal(await page.getByText("peanut", { exact: false }).count(), 0, "never what was withheld");
    await screenshot(page, "clinician-sealed-withheld");
    await done(s);
  }
  // The patient sees the access with its reason, downloads the log, reports it.
  {
    const s = await session("Alice Morgan");
    const { page } = s;
    await page.getByRole("heading", { name: "My summary" }).waitFor();
    await page.getByRole("heading", { name: "Known allergies", exact: true }).waitFor();
    await expectAccessible(page, "patient summary");
    await screenshot(page, "patient-summary");
    await page.getByRole("button", { name: "Who has accessed my record" }).click();
    const row = page.getByRole("row", { name: /Emergency access/ }).filter({ hasText: reason });
    await row.waitFor();
    const text = await row.innerText();
    assert.match(text, /Dr Tom Reid/);
    assert.match(text, /County General Hospital \(RXX01\)/);
    assert.match(text, /Summary Care Record/);
    await expectFastRender(page, "/fhir/Organization/", "access-log");
    await expectAccessible(page, "access log");
    await screenshot(page, "patient-access-log");
    // Older accesses come a page at a time; the download has them all.
    const rows = page.locator("table.crs-log tbody tr");
    assert.equal(await rows.count(), 50);
    await page.getByRole("button", { name: "Show older accesses" }).click();
    await page.getByText("Automated", { exact: true }).first().waitFor();
    assert.ok((await rows.count()) > 60);
    assert.equal(await page.evaluate(() => document.activeElement?.tagName), "TD", "focus moves to the first older row");
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download my access log (CSV)" }).click()]);
    const csv = readFileSync(await download.path(), "utf8");
    assert.match(csv, /^Date and time,Who,Role,Organisation,What,Why,Emergency access,Record/);
    assert.match(csv, /Collapsed in resus/);
    // Every access, one line each (the log grew by this page's own reads of it).
    assert.ok(csv.trim().split("\r\n").length - 1 >= (await rows.count()), "the download has every page");
    await row.getByRole("button", { name: /I don't recognise this/ }).click();
    await page.getByLabel("Anything you want to tell them (optional)").fill("I have never been to that hospital");
    await expectAccessible(page, "report an access");
    await page.getByRole("button", { name: "Report this access" }).click();
    await row.getByText("Reported", { exact: true }).waitFor();
    await done(s);
  }
  // The privacy officer of the hospital sees the report and closes it.
  {
    const s = await session("Lee Morgan");
    const { page } = s;
    await page.getByRole("heading", { name: /Alerts to review/ }).waitFor();
    await page.getByText("The audit log is intact").waitFor();
    await page.getByRole("cell", { name: "Reported by patient" }).waitFor();
    await expectAccessible(page, "alerts");
    await screenshot(page, "officer-alerts");
    await page.getByLabel("Patient's NHS number (optional)").fill("9990000042");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.getByText("1 alert", { exact: true }).waitFor();
    assert.match(await page.locator("table tbody").innerText(), /999 000 0042/);
    await page.getByLabel("Patient's NHS number (optional)").fill("9990000043");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.getByRole("link", { name: /check digit/ }).waitFor();
    await expectAccessible(page, "alerts with a filter error");
    await page.getByLabel("Patient's NHS number (optional)").fill("");
    // Dr Tom Reid's two emergency accesses, and the patient's report of one
    // of them (a report is about the access reported).
    await page.getByLabel("User name or id (optional)").fill("reid");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.getByText("3 alerts", { exact: true }).waitFor();
    await page.getByLabel("User name or id (optional)").fill("");
    await page.getByLabel("Alert type").selectOption("patient-reported");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.getByText("1 alert", { exact: true }).waitFor();
    await page.getByRole("button", { name: /^Review alert/ }).click();
    await page.getByRole("heading", { name: "The access the patient does not recognise" }).waitFor();
    await page.getByText(/Collapsed in resus/).first().waitFor();
    await page.getByText("I have never been to that hospital").waitFor();
    await expectAccessible(page, "alert");
    await screenshot(page, "officer-alert");
    await page.getByRole("button", { name: "Record review" }).click();
    await page.getByRole("link", { name: "Select the outcome of your review" }).waitFor();
    await page.getByLabel("Access was not appropriate: followed up with the user").check();
    await page.getByLabel("Notes (optional)").fill("Wrong patient opened; raised with the clinician");
    await page.getByRole("button", { name: "Record review" }).click();
    await page.getByText(/reviewed: Access was not appropriate/).waitFor();
    await page.getByLabel("Status").selectOption("all");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.getByRole("row", { name: /Reported by patient/ }).getByText("Reviewed").waitFor();
    await page.getByRole("button", { name: /^View alert/ }).click();
    await page.getByText(/Access was not appropriate: followed up with the user – by Lee Morgan/).waitFor();
    await expectAccessible(page, "reviewed alert");
    await done(s);
  }
});

test("a pharmacist finds a patient by NHS number and claims a care relationship", async () => {
  const s = await session("Sam Okafor");
  const { page } = s;
  await page.getByLabel("NHS number (if you know it)").pressSequentially("9990000042");
  assert.equal(await page.getByLabel("NHS number (if you know it)").inputValue(), "999 000 0042");
  assert.equal(await page.locator("#nhs-live").innerText(), "", "a valid number has no error");
  await page.getByRole("button", { name: "Search" }).click();
  const row = page.getByRole("row", { name: /SMITH, Jane Mary/ });
  await row.waitFor();
  assert.match(await row.innerText(), /Exact/);
  await row.getByRole("button", { name: /Open record/ }).click();
  await page.getByLabel("Yes, the patient has given permission").check();
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("heading", { name: "Your organisation has no care relationship with this patient on record" }).waitFor();
  await expectAccessible(page, "no relationship");
  await page.getByRole("button", { name: "Claim relationship and view" }).click();
  await page.getByRole("link", { name: "Enter the reason" }).waitFor();
  await page.getByLabel("Why are you caring for this patient?").fill("Dispensing an urgent prescription today");
  await page.getByRole("button", { name: "Claim relationship and view" }).click();
  await page.getByText("You are viewing this record on a claimed care relationship").waitFor();
  await page.getByRole("heading", { name: "Known allergies", exact: true }).waitFor();
  await page.getByText("Some information in this record is sealed and has been withheld").waitFor();
  await expectAccessible(page, "summary on a claimed relationship");
  await done(s);
});

test("a patient shares additional information; the GP's next upload includes it and a clinician sees it", async () => {
  {
    const s = await session("Alice Morgan");
    const { page } = s;
    await page.getByRole("button", { name: "My choices" }).click();
    await page.getByLabel("Share my Summary Care Record with additional information").check();
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByText(/will be able to include additional information/).waitFor();
    await page.getByRole("button", { name: "Save my choices" }).click();
    await page.getByText("Your choices have been saved and apply now.").waitFor();
    assert.ok(await page.getByLabel("Share my Summary Care Record with additional information").isChecked());
    await done(s);
  }
  {
    const s = await session("Dr Asha Patel");
    const { page } = s;
    const status = await page.evaluate(async (doc) => {
      const { token } = JSON.parse(sessionStorage.getItem("opencrs.session"));
      const r = await fetch("/fhir/Bundle", { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/fhir+json" }, body: JSON.stringify(doc) });
      return r.status;
    }, {
      resourceType: "Bundle",
      type: "document",
      timestamp: "2026-02-01T00:00:00Z",
      identifier: { system: "https://tools.ietf.org/html/rfc4122", value: "5b0e3a5e-0000-4000-8000-000000000018" },
      entry: [
        {
          fullUrl: "urn:uuid:comp",
          resource: {
            resourceType: "Composition", id: "comp", status: "final", date: "2026-02-01T00:00:00Z", title: "GP summary",
            type: { coding: [{ system: "http://snomed.info/sct", code: "196981000000101", display: "General Practice Summary" }] },
            subject: { reference: "urn:uuid:pat" }, author: [{ reference: "urn:uuid:org" }],
            section: [
              { title: "Allergies and adverse reactions", code: { coding: [{ code: "AllergiesHeader" }] }, entry: [{ reference: "urn:uuid:al" }] },
              { title: "Repeat medications", code: { coding: [{ code: "RepeatMedsHeader" }] }, entry: [{ reference: "urn:uuid:med" }] },
              { title: "Problems", code: { coding: [{ code: "ProblemsHeader" }] }, entry: [{ reference: "urn:uuid:cond" }] },
              {
                title: "Communication needs",
                code: { coding: [{ code: "CommunicationNeeds" }] },
                text: { status: "generated", div: '<div xmlns="http://www.w3.org/1999/xhtml"><p>Uses a hearing aid<img src="https://example.org/tracker.png"/></p></div>' },
              },
            ],
          },
        },
        { fullUrl: "urn:uuid:pat", resource: { resourceType: "Patient", id: "pat", identifier: [{ system: "https://fhir.nhs.uk/Id/nhs-number", value: "9990000018" }] } },
        { fullUrl: "urn:uuid:org", resource: { resourceType: "Organization", id: "org", name: "Riverside Medical Practice" } },
        { fullUrl: "urn:uuid:al", resource: { resourceType: "AllergyIntolerance", id: "al", code: { coding: [{ system: "http://snomed.info/sct", code: "91936005", display: "Allergy to penicillin" }] }, patient: { reference: "urn:uuid:pat" } } },
        { fullUrl: "urn:uuid:med", resource: { resourceType: "MedicationStatement", id: "med", status: "active", medicationCodeableConcept: { coding: [{ system: "https://dmd.nhs.uk", code: "39720311000001101", display: "Paracetamol 500mg tablets" }], text: "Panadol 500mg" }, subject: { reference: "urn:uuid:pat" }, dosage: [{ text: "Two tablets up to four times a day" }] } },
        { fullUrl: "urn:uuid:cond", resource: { resourceType: "Condition", id: "cond", code: { coding: [{ system: "http://snomed.info/sct", code: "44054006", display: "Type 2 diabetes mellitus" }] }, subject: { reference: "urn:uuid:pat" } } },
      ],
    });
    assert.equal(status, 200, "a new version of the summary");
    await trace(page, "Morgan", "14", "3", "1958");
    await page.getByRole("button", { name: /Open record for MORGAN, Alice/ }).click();
    await page.getByLabel("Yes, the patient has given permission").check();
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByRole("heading", { name: "Additional information" }).waitFor();
    await page.getByText("Type 2 diabetes mellitus").waitFor();
    // The practice's other text, under its own title: as text, and nothing in it loads.
    await page.getByRole("heading", { name: "Communication needs" }).waitFor();
    await page.getByText("Uses a hearing aid").waitFor();
    // The generic name first, then the name as prescribed.
    await page.getByRole("cell", { name: "Paracetamol 500mg tablets (Panadol 500mg)" }).waitFor();
    await expectAccessible(page, "summary with additional information");
    await done(s);
  }
});

test("a patient opts out of the Summary Care Record; a clinician then sees that none is available", async () => {
  {
    const s = await session("Alice Morgan");
    const { page } = s;
    await page.getByRole("button", { name: "My choices" }).click();
    await page.getByLabel("Share my core Summary Care Record").waitFor();
    assert.ok(await page.getByLabel("Share my Summary Care Record with additional information").isChecked(), "the current choice is shown");
    await expectAccessible(page, "my choices");
    await screenshot(page, "patient-choices");
    await page.getByLabel("Do not share a Summary Care Record").check();
    await page.getByLabel("No, opt me out (National Data Opt-out)").check();
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByRole("heading", { name: "Check your choices before saving" }).waitFor();
    await page.getByText(/will be erased from the national record straight away/).waitFor();
    await page.getByText(/will not be used for research and planning/).waitFor();
    await expectAccessible(page, "check your choices");
    await screenshot(page, "patient-choices-check");
    await page.getByRole("button", { name: "Save my choices" }).click();
    await page.getByText("Your choices have been saved and apply now.").waitFor();
    assert.ok(await page.getByLabel("Do not share a Summary Care Record").isChecked());
    assert.ok(await page.getByLabel("No, opt me out (National Data Opt-out)").isChecked());
    await page.getByRole("button", { name: "My summary" }).click();
    await page.getByRole("heading", { name: "You do not have a Summary Care Record" }).waitFor();
    await expectAccessible(page, "patient without a summary");
    await done(s);
  }
  {
    const s = await session("Dr Asha Patel");
    const { page } = s;
    await trace(page, "Morgan", "14", "3", "1958");
    await page.getByRole("button", { name: /Open record for MORGAN, Alice/ }).click();
    await page.getByRole("heading", { name: "No Summary Care Record available" }).waitFor();
    await page.getByText(/has chosen not to share a Summary Care Record/).waitFor();
    assert.equal(await page.getByText("Known allergies").count(), 0);
    await expectAccessible(page, "no summary available");
    await screenshot(page, "clinician-no-summary");
    await done(s);
  }
});

test("a summary the practice sent as text is shown as their text, never as 'Allergies not recorded'", async () => {
  const s = await session("Dr Asha Patel");
  const { page } = s;
  const xhtml = (inner) => `<div xmlns="http://www.w3.org/1999/xhtml">${inner}</div>`;
  const status = await page.evaluate(async (doc) => {
    const { token } = JSON.parse(sessionStorage.getItem("opencrs.session"));
    const r = await fetch("/fhir/Bundle", { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/fhir+json" }, body: JSON.stringify(doc) });
    return r.status;
  }, {
    resourceType: "Bundle",
    type: "document",
    timestamp: "2026-01-01T00:00:00Z",
    identifier: { system: "https://tools.ietf.org/html/rfc4122", value: "5b0e3a5e-0000-4000-8000-000000000026" },
    entry: [
      {
        fullUrl: "urn:uuid:comp",
        resource: {
          resourceType: "Composition", id: "comp", status: "final", date: "2026-01-01T00:00:00Z", title: "GP summary",
          type: { coding: [{ system: "http://snomed.info/sct", code: "196981000000101", display: "General Practice Summary" }] },
          subject: { reference: "urn:uuid:pat" }, author: [{ reference: "urn:uuid:org" }],
          section: [
            { title: "Allergies and adverse reactions", code: { coding: [{ code: "AllergiesHeader" }] }, text: { status: "generated", div: xhtml("<p>Penicillin: rash <b>(2019)</b></p><p>Elastoplast: itching</p>") } },
            { title: "Repeat medications", code: { coding: [{ code: "RepeatMedsHeader" }] }, text: { status: "generated", div: xhtml("<ul><li>Amlodipine 5mg tablets, one daily</li></ul>") } },
            { title: "Communication needs", code: { coding: [{ code: "CommunicationNeeds" }] }, text: { status: "generated", div: xhtml("<p>Uses a hearing aid</p>") } },
          ],
        },
      },
      { fullUrl: "urn:uuid:pat", resource: { resourceType: "Patient", id: "pat", identifier: [{ system: "https://fhir.nhs.uk/Id/nhs-number", value: "9990000026" }] } },
      { fullUrl: "urn:uuid:org", resource: { resourceType: "Organization", id: "org", name: "Riverside Medical Practice" } },
    ],
  });
  assert.equal(status, 201);
  await trace(page, "Patel", "2", "11", "1972");
  await page.getByRole("button", { name: /Open record for PATEL, Ravi Kumar/ }).click();
  await page.getByLabel("Yes, the patient has given permission").check();
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("heading", { name: "Allergies and adverse reactions (as recorded by the practice)" }).waitFor();
  await page.getByText("Penicillin: rash (2019)").waitFor();
  await page.getByText("Elastoplast: itching").waitFor();
  await page.getByText("Amlodipine 5mg tablets, one daily").waitFor();
  // Other sections are additional information: without the patient's
  // explicit consent the server never kept them.
  assert.equal(await page.getByText("Uses a hearing aid").count(), 0);
  assert.equal(await page.getByText("Allergies not recorded").count(), 0);
  assert.equal(await page.getByText("No medication recorded").count(), 0);
  await expectAccessible(page, "summary as recorded by the practice");
  await done(s);
});

test("the privacy officer's alerts come a page at a time", async () => {
  {
    const s = await session("Dr Tom Reid");
    const made = await s.page.evaluate(async () => {
      const { token } = JSON.parse(sessionStorage.getItem("opencrs.session"));
      let ok = 0;
      for (let i = 0; i < 55; i++) {
        const r = await fetch("/fhir/AllergyIntolerance/_search", {
          method: "POST",
          headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/x-www-form-urlencoded", "X-Purpose-Of-Use": "ETREAT", "X-Access-Justification": "Paging test" },
          body: "patient=9990000042",
        });
        if (r.ok) ok++;
      }
      return ok;
    });
    assert.equal(made, 55);
    await done(s);
  }
  const s = await session("Lee Morgan");
  const { page } = s;
  await page.getByText("Older alerts follow.", { exact: false }).waitFor();
  const rows = page.locator("table tbody tr");
  assert.equal(await rows.count(), 50);
  await page.getByRole("button", { name: "Show older alerts" }).click();
  await page.waitForFunction(() => document.querySelectorAll("table tbody tr").length > 50);
  assert.equal(await page.evaluate(() => document.activeElement?.tagName), "TD", "focus moves to the first older alert");
  await expectAccessible(page, "alerts, second page");
  await done(s);
});
