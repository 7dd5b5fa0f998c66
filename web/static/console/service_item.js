// The hotline form's service item (服务事项, optional): picking one from the catalogue shows everything it takes
// (conditions, materials, office, limit, phone), so the operator tells the caller all of it at once (一次性告知),
// sets the form's category and names the item at the start of the description.
import { get } from "../app/api.js";
import { $, h, fill } from "../app/dom.js";
import { t } from "../app/i18n.js";

export function attachServiceItems() {
  const input = $("#cf-item");
  const info = $("#cf-item-info");
  let items = null;

  async function load() {
    if (items) { return; }
    items = (await get("/api/v1/public/catalogue", { auth: false })).items;
    fill($("#cf-items"), items.map((i) => h("option", { value: i.code + " " + i.name })));
  }

  function pick() {
    const item = (items || []).find((i) => input.value.startsWith(i.code + " "));
    info.hidden = !item;
    // What the form sends as service_item (console/create.js), while the category is still the item's.
    input.dataset.code = item ? item.code : "";
    input.dataset.category = item ? item.category_code || "" : "";
    if (!item) { return; }
    fill(info, h("p", null, h("strong", null, t("guide.conditions") + "："), item.conditions),
      h("p", null, h("strong", null, t("guide.materials") + "："), item.materials.join("、")),
      h("p", null, h("strong", null, t("guide.office") + "："), item.office + " · " + item.hours),
      h("p", null, h("strong", null, t("guide.limit") + "："), item.time_limit_days == null ? t("guide.on_the_spot")
        : t("guide.days", { n: item.time_limit_days }), " · ", item.phone));
    const category = $("#cf-category");
    if (item.category_code && [...category.options].some((o) => o.value === item.category_code)) {
      category.value = item.category_code;
      category.dispatchEvent(new Event("change"));
    }
    const text = $("#cf-description");
    const tag = t("guide.filed_from", { code: item.code, name: item.name });
    if (!text.value.startsWith(tag)) { text.value = tag + "\n" + text.value; }
  }

  for (const kind of ["focus", "input"]) { input.addEventListener(kind, () => { load().catch(() => {}); }); }
  input.addEventListener("change", () => { load().then(pick).catch(() => {}); });
}
