// A modal form for one console action: fields described as data, the values handed to `submit`, which posts
// them. The dialog stays open on a refusal and shows the server's message (the server is the judge of every rule).
//
//   openDialog({ id: "dlg-transfer", title, fields: [{ name: "reason", label, kind: "textarea", required: true }],
//                submitLabel, submit: async (values) => { await post(...); } })
import { h } from "../app/dom.js";
import { t } from "../app/i18n.js";

function control(f) {
  const common = { name: f.name, id: `dlg-${f.name}` };
  if (f.kind === "select") {
    return h("select", common, f.options.map(([value, text]) =>
      h("option", { value, selected: String(value) === String(f.value ?? "") }, text)));
  }
  if (f.kind === "checks") {  // several choices (supporting departments of a 联办件)
    return h("div", { class: "checks", id: common.id }, f.options.map(([value, text]) =>
      h("label", {}, h("input", { type: "checkbox", value, name: f.name }), " ", text)));
  }
  if (f.kind === "checkbox") {
    return h("input", { ...common, type: "checkbox", checked: !!f.value });
  }
  if (f.kind === "textarea") {
    return h("textarea", { ...common, rows: 3, maxlength: f.max || 500, value: f.value ?? "" });
  }
  return h("input", { ...common, type: f.kind || "text", value: f.value ?? "", maxlength: f.max || 200,
    list: f.list || null });
}

function readValue(form, f) {
  if (f.kind === "checks") {
    return [...form.querySelectorAll(`input[name="${f.name}"]:checked`)].map((el) => el.value);
  }
  const el = form.querySelector(`#dlg-${f.name}`);
  return f.kind === "checkbox" ? el.checked : el.value.trim();
}

export function openDialog({ id, title, intro = null, fields, submitLabel, submit }) {
  document.querySelector("dialog.action-dialog")?.remove();
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const form = h("form", { method: "dialog", class: "dialog-form", novalidate: true },
    h("h2", {}, title), intro ? h("p", { class: "meta" }, intro) : null,
    fields.map((f) => h("label", { class: f.kind === "checkbox" ? "inline" : "" }, f.label, control(f))),
    error,
    h("div", { class: "form-actions" },
      h("button", { type: "submit", class: "btn btn-primary", id: `${id}-submit` }, submitLabel),
      h("button", { type: "button", class: "btn btn-quiet", id: `${id}-cancel`, onclick: () => dlg.close() },
        t("console.cancel"))));
  const dlg = h("dialog", { class: "action-dialog", id }, form);
  form.addEventListener("input", () => { error.hidden = true; });  // the operator is correcting it
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const values = Object.fromEntries(fields.map((f) => [f.name, readValue(form, f)]));
    const missing = fields.filter((f) => f.required && (values[f.name] === "" || values[f.name] == null));
    if (missing.length) {
      error.textContent = t("console.missing", { fields: missing.map((f) => f.label).join("、") });
      error.hidden = false;
      return;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await submit(values);
      dlg.close();
    } catch (err) {
      error.textContent = err.message;  // and the page's toast says it too (actions.js)
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
  dlg.addEventListener("close", () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  dlg.querySelector("input, select, textarea")?.focus();
  return dlg;
}
