// Small building blocks of the admin console's tabs: labelled form fields, a form read back as an object, tables,
// the JSON calls with the toast on refusal, and file downloads carrying the bearer token.
import { h } from "../app/dom.js";
import { api } from "../app/api.js";
import { auth } from "../app/auth.js";
import { t } from "../app/i18n.js";

let notify = () => {};
export function setNotifier(fn) { notify = fn; }
export function say(message, isError = false) { notify(message, isError); }

// field("username", "admin.f.username", { type: "text", required: true }) → <label>text<input name></label>
export function field(name, key, attrs = {}, cls = "") {
  const { options, ...rest } = attrs;
  let input;
  if (options) {
    input = h("select", { name, ...rest }, options.map(([value, text]) => h("option", { value }, text)));
  } else {
    input = h("input", { name, type: "text", ...rest });
  }
  return h("label", { class: cls }, t(key), input);
}

// The form's named values: "" → null, checkboxes → booleans, number inputs → numbers.
export function values(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name) { continue; }
    if (el.type === "checkbox") { out[el.name] = el.checked; continue; }
    const v = el.value.trim();
    out[el.name] = v === "" ? null : (el.type === "number" ? Number(v) : v);
  }
  return out;
}

export function fillForm(form, data) {
  for (const el of form.elements) {
    if (!el.name || !(el.name in data)) { continue; }
    const v = data[el.name];
    if (el.type === "checkbox") { el.checked = !!v; } else { el.value = v === null || v === undefined ? "" : v; }
  }
}

export const list = (text) => (text ? text.split(/[,，、\s]+/).filter(Boolean) : []);

export function table(columns, rows, render) {
  return h("table", { class: "a-table" },
    h("thead", {}, h("tr", {}, columns.map((k) => h("th", {}, t(k))))),
    h("tbody", {}, rows.map(render)));
}

// A JSON call; a refusal is shown (with its details' first lines) and rethrown.
export async function call(method, path, body, opts = {}) {
  try {
    return await api(method, path, body === undefined ? opts : { ...opts, body });
  } catch (err) {
    say(t("admin.refused", { why: err.message }), true);
    throw err;
  }
}

// GET a file with the token and hand it to the browser as a download.
export async function download(path, filename) {
  const r = await fetch(path, { headers: { Authorization: "Bearer " + auth.token() } });
  if (!r.ok) { say(t("admin.refused", { why: "HTTP " + r.status }), true); return; }
  const url = URL.createObjectURL(await r.blob());
  const a = h("a", { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  URL.revokeObjectURL(url);
}

// POST a FormData with upload progress (fetch has none): onProgress(0..1) while sending. Resolves to
// { status, body } whatever the status, rejects only when nothing was sent.
export function upload(path, form, onProgress = () => {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.setRequestHeader("Authorization", "Bearer " + auth.token());
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) { onProgress(e.loaded / e.total); } };
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      resolve({ status: xhr.status, body });
    };
    xhr.onerror = () => reject(new Error("network"));
    xhr.send(form);
  });
}
