// The service catalogue on /r (办事指南): browse by group, search, open an item to see everything it takes
// (conditions, materials, office, hours, time limit, phone: 一次性告知), and file a request from it, which fills
// the form below with the item's category and name.
import { t } from "../app/i18n.js";
import { get } from "../app/api.js";
import { $, h, fill } from "../app/dom.js";
import { debounce } from "../app/timing.js";

export function createGuide(el, { onFile }) {
  let group = "";
  let groups = [];
  let openCode = null;

  function detail(item) {
    const row = (label, value) => h("div", { class: "g-row" }, h("dt", null, label), h("dd", null, value));
    return h("dl", { class: "g-detail" },
      row(t("guide.conditions"), item.conditions),
      row(t("guide.materials"), h("ol", null, item.materials.map((m) => h("li", null, m)))),
      row(t("guide.office"), item.office + " · " + item.address),
      row(t("guide.hours"), item.hours),
      row(t("guide.limit"), item.time_limit_days == null ? t("guide.on_the_spot")
        : t("guide.days", { n: item.time_limit_days })),
      row(t("guide.phone"), h("a", { href: "tel:" + item.phone.replace(/[^0-9+]/g, "") }, item.phone)),
      row(t("guide.how"), [item.online ? t("guide.online") : null, item.offline ? t("guide.offline") : null]
        .filter(Boolean).join(" · ")),
      h("button", { type: "button", class: "r-btn r-primary g-file", onclick: () => onFile(item) }, t("guide.file")));
  }

  function draw(items) {
    fill($(".g-groups", el), ["", ...groups].map((g) => h("button", { type: "button", class: "g-group",
      "aria-pressed": String(g === group), onclick: () => { group = g; load(); } }, g || t("guide.all"))));
    fill($(".g-list", el), items.length ? items.map((item) => h("li", { "data-code": item.code,
      class: item.code === openCode ? "open" : "" },
    h("button", { type: "button", class: "g-item", "aria-expanded": String(item.code === openCode),
      onclick: () => { openCode = openCode === item.code ? null : item.code; draw(items); } },
    h("span", { class: "g-name" }, item.name),
    h("span", { class: "g-tags" }, t("guide.type_" + item.item_type), " · ", item.department)),
    item.code === openCode ? detail(item) : null)) : h("li", { class: "g-none" }, t("guide.none")));
  }

  async function load() {
    const q = $(".g-search", el).value.trim();
    const params = new URLSearchParams();
    if (q) { params.set("q", q); }
    if (group) { params.set("group", group); }
    const data = await get("/api/v1/public/catalogue?" + params, { auth: false });
    groups = data.groups;
    draw(data.items);
  }

  $(".g-search", el).addEventListener("input", debounce(() => load().catch(() => {}), 250));
  return { load };
}
