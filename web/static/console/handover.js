// The console's handover banner: a shift handover note (交接班) waiting for this operator's signature shows at the
// top until signed on /duty; `duty.*` socket events refresh it.
import { get } from "../app/api.js";
import { h, fill } from "../app/dom.js";
import { t } from "../app/i18n.js";

export function createHandoverBanner(el) {
  async function refresh() {
    const pending = await get("/api/v1/duty/handovers?pending=true");
    el.hidden = pending.length === 0;
    if (pending.length) {
      fill(el, h("span", null, t("duty.banner", { who: pending[0].from_name })),
        h("a", { class: "btn btn-primary", href: "/duty" }, t("duty.open")));
    }
  }
  return {
    refresh,
    apply(event) { if (event.kind.startsWith("duty.")) { refresh().catch(() => {}); } },
  };
}
