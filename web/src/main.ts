// The OpenCRS web UI: signs a user in and shows the view for their role.
// Views are kept in memory: nothing about a patient ever reaches the
// address bar or the browser history.
import { setOnUnauthorised } from "./api";
import { h, replace } from "./dom";
import { roleName } from "./format";
import * as session from "./session";
import { forgetTraces, traceView } from "./views/clinician";
import { forgetFilters, officerHome } from "./views/officer";
import { patientHome } from "./views/patient";
import { signInView } from "./views/signin";

function header(s: session.Session | null): void {
  const slot = document.getElementById("crs-user");
  if (!slot) return;
  if (!s) return replace(slot);
  const u = s.user;
  replace(
    slot,
    h("span", null, h("span", { class: "nhsuk-u-visually-hidden" }, "Signed in as "), u.name || u.id, `, ${roleName(u.role)}`, u.org ? `, ${u.org}` : ""),
    h("button", { type: "button", class: "nhsuk-button nhsuk-button--reverse nhsuk-button--small", onclick: () => signOut() }, "Sign out"),
  );
}

function signOut(message = ""): void {
  session.clear();
  // What the views kept in memory for going back goes with the token.
  forgetTraces();
  forgetFilters();
  header(null);
  void signInView(home, message);
}

function home(): void {
  const s = session.load();
  header(s);
  if (!s) return void signInView(home);
  if (session.isPatient(s.user)) void patientHome(s.user);
  else if (session.isPrivacyOfficer(s.user)) void officerHome(s.user);
  else traceView();
}

setOnUnauthorised(() => signOut("Your sign-in was not accepted or has expired. Sign in again."));
home();
