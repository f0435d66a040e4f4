// Sign in: in demo mode pick a demo user (the server issues the token);
// otherwise paste a bearer token from your identity provider.
import { ApiError, call } from "../api";
import { h } from "../dom";
import * as session from "../session";
import { checked, errorSummary, heading, radios, showErrors, showView, submitButton, value } from "../ui";

interface DemoUser {
  id: string;
  label: string;
  name: string;
  role: string;
  org?: string;
  patient?: string;
}

export async function signInView(onSignedIn: () => void, message = ""): Promise<void> {
  let users: DemoUser[] = [];
  try {
    users = (await call<{ users: DemoUser[] }>("/demo/users")).users;
  } catch {
    users = []; // not a demo node
  }
  const demoForm = users.length
    ? h(
        "form",
        { novalidate: true, class: "nhsuk-u-margin-bottom-6" },
        radios(
          "demo-user",
          "Sign in as a demo user",
          users.map((u) => ({ value: u.id, label: u.name, hint: u.label })),
          { hint: "This node runs in demo mode: its data is made up.", legendSize: "l" },
        ),
        submitButton("Sign in"),
      )
    : null;
  demoForm?.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const id = checked(demoForm, "demo-user");
    if (!id) return showErrors(demoForm, [{ field: "demo-user", message: "Select a demo user" }]);
    try {
      const issued = await call<{ token: string; user: DemoUser }>("/demo/token", { json: { user: id } });
      const u = issued.user;
      session.save({ token: issued.token, user: { id: u.id, name: u.name, role: u.role, org: u.org, patient: u.patient } });
      onSignedIn();
    } catch (e) {
      showErrors(demoForm, [{ field: "", message: e instanceof ApiError ? e.message : "Signing in failed" }]);
    }
  });

  const tokenForm = h(
    "form",
    { novalidate: true },
    h(
      "div",
      { class: "nhsuk-form-group" },
      h("label", { class: "nhsuk-label nhsuk-label--m", for: "token" }, users.length ? "Or sign in with a token" : "Sign in with a token"),
      h("div", { class: "nhsuk-hint", id: "token-hint" }, "Paste the bearer token your identity provider issued (or one from crs token). It is kept in this browser tab only, and forgotten when you sign out or close the tab."),
      h("textarea", { class: "nhsuk-textarea", id: "token", name: "token", rows: 4, "aria-describedby": "token-hint", autocomplete: "off", spellcheck: "false" }),
    ),
    submitButton("Sign in with token", users.length ? "secondary" : ""),
  );
  tokenForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const token = value(tokenForm, "token").replace(/^Bearer\s+/i, "");
    const user = token ? session.userFromToken(token) : null;
    if (!user) {
      return showErrors(tokenForm, [{ field: "token", message: token ? "This is not a token OpenCRS can read: paste the whole token" : "Paste a token" }]);
    }
    session.save({ token, user });
    onSignedIn();
  });

  showView(
    "Sign in",
    heading("Sign in to OpenCRS"),
    message ? errorSummary([{ field: "", message }], "You have been signed out") : null,
    h("p", { class: "nhsuk-body-l" }, "The national care record: demographics, the Summary Care Record, and who has seen it."),
    demoForm,
    tokenForm,
  );
}
