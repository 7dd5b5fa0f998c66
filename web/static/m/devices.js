// "My GPS apps": the worker binds the device id of a GPS tracker on their phone (OsmAnd, Traccar Client…) so its
// reports move them like this app's own (docs/interop.md). Shown in the Me view; talks to
// /api/v1/workers/me/devices directly (an online action, not queued: the answer says whether the id is free).
import { api } from "../app/api.js";
import { h, fill } from "../app/dom.js";
import { t } from "../app/i18n.js";

const ID = /^[A-Za-z0-9._:-]{1,64}$/;

export function renderDevices(root) {
  const box = h("section", { class: "card stack", id: "gps-devices" });
  root.append(box);
  const say = (key, extra) => { box.querySelector(".m-error").textContent = key ? t(key, extra) : ""; };

  async function load() {
    let items = [];
    try { items = await api("GET", "/api/v1/workers/me/devices"); } catch (e) { /* shown as none; retried on open */ }
    const input = h("input", { id: "device-id", maxlength: "64", autocomplete: "off", spellcheck: "false" });
    fill(box,
      h("h3", null, t("m.devices_title")),
      h("p", { class: "hint" }, t("m.devices_hint", { path: window.location.origin + "/osmand" })),
      items.length ? h("ul", { class: "devices" }, items.map((d) => h("li", { "data-device": d.device_id },
        h("code", null, d.device_id), " ",
        h("button", { type: "button", class: "btn btn-ghost", onclick: () => remove(d.device_id) },
          t("m.device_remove")))))
        : h("p", { class: "hint" }, t("m.devices_none")),
      h("label", null, t("m.device_id"), input),
      h("button", { type: "button", class: "btn btn-block", id: "device-bind", onclick: () => bind(input.value.trim()) },
        t("m.device_bind")),
      h("p", { class: "m-error", role: "alert" }));
  }

  async function bind(id) {
    if (!ID.test(id)) { say("m.device_invalid"); return; }
    try {
      await api("PUT", "/api/v1/workers/me/devices/" + encodeURIComponent(id));
      await load();
    } catch (e) { say(e.status === 409 ? "m.device_taken" : "m.device_failed"); }
  }

  async function remove(id) {
    try {
      await api("DELETE", "/api/v1/workers/me/devices/" + encodeURIComponent(id));
      await load();
    } catch (e) { say("m.device_failed"); }
  }

  load();
}
