// Shared pieces of every view, in the NHS.UK design system's markup: the
// page frame, error summaries, form fields, the patient banner.
import type { Patient } from "fhir/r4";
import { h, replace, type Child } from "./dom";
import { currentName, formatBirthDate, formatGender, formatName, formatNhsNumber, groupNhsDigits, nhsNumberError } from "./format";

export function mainElement(): HTMLElement {
  return document.getElementById("maincontent") as HTMLElement;
}

// Shows a view: its title becomes the page title, and focus moves to its
// heading so keyboard and screen-reader users start at the top.
export function showView(title: string, ...content: Child[]): void {
  document.title = `${title} – OpenCRS`;
  const main = mainElement();
  replace(main, ...content);
  const heading = main.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }
}

export function heading(text: string, caption?: string): HTMLElement {
  return h("h1", { class: "nhsuk-heading-l" }, caption ? h("span", { class: "nhsuk-caption-l" }, caption, " ") : null, text);
}

export function button(text: string, onclick: () => void, variant: "" | "secondary" | "reverse" | "warning" = ""): HTMLButtonElement {
  return h(
    "button",
    { type: "button", class: `nhsuk-button${variant ? ` nhsuk-button--${variant}` : ""}`, "data-module": "nhsuk-button", onclick },
    text,
  );
}

export function submitButton(text: string, variant: "" | "secondary" | "warning" = ""): HTMLButtonElement {
  return h("button", { type: "submit", class: `nhsuk-button${variant ? ` nhsuk-button--${variant}` : ""}` }, text);
}

export function backLink(text: string, onclick: () => void): HTMLElement {
  return h(
    "div",
    { class: "nhsuk-back-link" },
    h("button", { type: "button", class: "nhsuk-back-link__link crs-link-button", onclick }, text),
  );
}

export function inset(...children: Child[]): HTMLElement {
  return h("div", { class: "nhsuk-inset-text" }, h("span", { class: "nhsuk-u-visually-hidden" }, "Information: "), ...children);
}

export function warning(title: string, ...children: Child[]): HTMLElement {
  return h(
    "div",
    { class: "nhsuk-warning-callout" },
    h("h3", { class: "nhsuk-warning-callout__label" }, h("span", { role: "text" }, h("span", { class: "nhsuk-u-visually-hidden" }, "Important: "), title)),
    ...children,
  );
}

export function tag(text: string, colour = ""): HTMLElement {
  return h("strong", { class: `nhsuk-tag${colour ? ` nhsuk-tag--${colour}` : ""}` }, text);
}

// A status message for assistive technology and the eye.
export function notice(text: string, kind: "success" | "info" = "info"): HTMLElement {
  return h(
    "div",
    { class: `nhsuk-notification-banner${kind === "success" ? " nhsuk-notification-banner--success" : ""}`, role: kind === "success" ? "alert" : "region", "aria-labelledby": "crs-notice-title" },
    h("div", { class: "nhsuk-notification-banner__header" }, h("h2", { class: "nhsuk-notification-banner__title", id: "crs-notice-title" }, kind === "success" ? "Success" : "Important")),
    h("div", { class: "nhsuk-notification-banner__content" }, h("p", { class: "nhsuk-notification-banner__heading" }, text)),
  );
}

export interface FieldError {
  field: string; // the id of the input
  message: string;
}

// The error summary the design system prescribes: at the top, focused, each
// error a link to its field.
export function errorSummary(errors: FieldError[], title = "There is a problem"): HTMLElement {
  const box = h(
    "div",
    { class: "nhsuk-error-summary", "aria-labelledby": "crs-error-title", role: "alert", tabindex: "-1" },
    h("h2", { class: "nhsuk-error-summary__title", id: "crs-error-title" }, title),
    h(
      "div",
      { class: "nhsuk-error-summary__body" },
      h(
        "ul",
        { class: "nhsuk-list nhsuk-error-summary__list" },
        errors.map((e) =>
          h(
            "li",
            null,
            e.field
              ? h("a", { href: `#${e.field}`, onclick: (ev: Event) => { ev.preventDefault(); document.getElementById(e.field)?.focus(); } }, e.message)
              : e.message,
          ),
        ),
      ),
    ),
  );
  return box;
}

// Puts an error summary at the top of `container` (replacing an earlier one), and focuses it.
export function showErrors(container: HTMLElement, errors: FieldError[]): void {
  container.querySelector(".nhsuk-error-summary")?.remove();
  for (const g of Array.from(container.querySelectorAll(".nhsuk-form-group--error"))) g.classList.remove("nhsuk-form-group--error");
  for (const m of Array.from(container.querySelectorAll(".crs-field-error"))) m.remove();
  if (errors.length === 0) return;
  const summary = errorSummary(errors);
  container.prepend(summary);
  for (const e of errors) {
    const input = e.field ? document.getElementById(e.field) : null;
    const group = input?.closest(".nhsuk-form-group");
    if (!input || !group) continue;
    group.classList.add("nhsuk-form-group--error");
    const id = `${e.field}-error`;
    const msg = h("span", { class: "nhsuk-error-message crs-field-error", id }, h("span", { class: "nhsuk-u-visually-hidden" }, "Error: "), e.message);
    const fieldset = input.closest("fieldset");
    const anchor = fieldset && group.contains(fieldset) ? fieldset.querySelector(".nhsuk-radios, .nhsuk-checkboxes, .nhsuk-date-input") ?? input : input;
    anchor.before(msg);
    input.setAttribute("aria-describedby", [input.getAttribute("aria-describedby"), id].filter(Boolean).join(" "));
  }
  summary.focus();
}

export function textField(
  id: string,
  label: string,
  opts: { hint?: string; width?: number; autocomplete?: string; value?: string; inputmode?: string; type?: string } = {},
): HTMLElement {
  const hintId = opts.hint ? `${id}-hint` : undefined;
  return h(
    "div",
    { class: "nhsuk-form-group" },
    h("label", { class: "nhsuk-label", for: id }, label),
    opts.hint ? h("div", { class: "nhsuk-hint", id: hintId }, opts.hint) : null,
    h("input", {
      class: `nhsuk-input${opts.width ? ` nhsuk-input--width-${opts.width}` : ""}`,
      id,
      name: id,
      type: opts.type ?? "text",
      autocomplete: opts.autocomplete ?? "off",
      spellcheck: "false",
      inputmode: opts.inputmode,
      value: opts.value,
      "aria-describedby": hintId,
    }),
  );
}

export function textArea(id: string, label: string, hint?: string): HTMLElement {
  const hintId = hint ? `${id}-hint` : undefined;
  return h(
    "div",
    { class: "nhsuk-form-group" },
    h("label", { class: "nhsuk-label", for: id }, label),
    hint ? h("div", { class: "nhsuk-hint", id: hintId }, hint) : null,
    h("textarea", { class: "nhsuk-textarea", id, name: id, rows: 3, "aria-describedby": hintId, maxlength: 1000 }),
  );
}

export interface Choice {
  value: string;
  label: string;
  hint?: string;
}

export function radios(name: string, legend: string, choices: Choice[], opts: { hint?: string; checked?: string; inline?: boolean; legendSize?: "l" | "m" | "s" } = {}): HTMLElement {
  const hintId = opts.hint ? `${name}-hint` : undefined;
  return h(
    "div",
    { class: "nhsuk-form-group" },
    h(
      "fieldset",
      { class: "nhsuk-fieldset", "aria-describedby": hintId },
      h("legend", { class: `nhsuk-fieldset__legend nhsuk-fieldset__legend--${opts.legendSize ?? "m"}` }, opts.legendSize === "l" ? h("h2", { class: "nhsuk-fieldset__heading" }, legend) : legend),
      opts.hint ? h("div", { class: "nhsuk-hint", id: hintId }, opts.hint) : null,
      h(
        "div",
        { class: `nhsuk-radios${opts.inline ? " nhsuk-radios--inline" : ""}` },
        choices.map((c, i) => {
          const id = i === 0 ? name : `${name}-${i + 1}`;
          const itemHint = c.hint ? `${id}-item-hint` : undefined;
          return h(
            "div",
            { class: "nhsuk-radios__item" },
            h("input", { class: "nhsuk-radios__input", id, name, type: "radio", value: c.value, checked: opts.checked === c.value, "aria-describedby": itemHint }),
            h("label", { class: "nhsuk-label nhsuk-radios__label", for: id }, c.label),
            c.hint ? h("div", { class: "nhsuk-hint nhsuk-radios__hint", id: itemHint }, c.hint) : null,
          );
        }),
      ),
    ),
  );
}

export function checked(form: HTMLFormElement, name: string): string {
  const el = form.querySelector<HTMLInputElement>(`input[name="${name}"]:checked`);
  return el ? el.value : "";
}

export function value(form: HTMLFormElement, id: string): string {
  const el = form.querySelector<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>(`#${id}`);
  return el ? el.value.trim() : "";
}

// An NHS number field: grouped 3-3-4 as typed, check digit validated as
// soon as ten digits are there (announced politely).
export function nhsNumberField(id: string, label = "NHS number"): HTMLElement {
  const group = textField(id, label, { hint: "10 digits, for example 943 476 5919", width: 10, inputmode: "numeric" });
  const input = group.querySelector("input") as HTMLInputElement;
  const status = h("span", { class: "nhsuk-error-message", id: `${id}-live`, "aria-live": "polite" });
  input.after(status);
  input.setAttribute("aria-describedby", `${id}-hint ${id}-live`);
  input.addEventListener("input", () => {
    const caret = input.selectionStart === input.value.length;
    const grouped = groupNhsDigits(input.value);
    if (/^[\d\s]*$/.test(input.value) && grouped !== input.value && caret) input.value = grouped;
    const digits = input.value.replace(/\s/g, "");
    const message = digits.length >= 10 || /[^\d\s]/.test(input.value) ? nhsNumberError(input.value) : "";
    status.textContent = message;
    group.classList.toggle("nhsuk-form-group--error", message !== "");
    input.classList.toggle("nhsuk-input--error", message !== "");
  });
  return group;
}

export function summaryList(rows: [string, Child][]): HTMLElement {
  return h(
    "dl",
    { class: "nhsuk-summary-list" },
    rows.map(([k, v]) => h("div", { class: "nhsuk-summary-list__row" }, h("dt", { class: "nhsuk-summary-list__key" }, k), h("dd", { class: "nhsuk-summary-list__value" }, v))),
  );
}

// The patient banner, in the CUI order: name, born, gender, NHS No.
export function patientBanner(p: Patient): HTMLElement {
  return h(
    "section",
    { class: "crs-banner", "aria-label": "Patient" },
    h("h2", { class: "crs-banner__name" }, formatName(currentName(p))),
    h(
      "dl",
      null,
      h("div", null, h("dt", null, "Born"), h("dd", null, formatBirthDate(p.birthDate))),
      h("div", null, h("dt", null, "Gender"), h("dd", null, formatGender(p.gender))),
      h("div", null, h("dt", null, "NHS No."), h("dd", null, formatNhsNumber(p.id ?? ""))),
    ),
  );
}

export function loading(text = "Loading…"): HTMLElement {
  return h("p", { class: "nhsuk-body", role: "status" }, text);
}

// Marks that a view finished rendering (the browser tests measure the time
// from its API response to this mark).
export function rendered(view: string): void {
  performance.mark(`crs:${view}`);
}
