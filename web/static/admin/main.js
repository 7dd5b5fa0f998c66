// The administrator's console (/admin): one tab at a time, each drawn by its module from the admin API
// (/api/v1/admin/...). A region admin (an admin whose account has a region) is shown their scope; the API keeps
// them inside it.
import { auth } from "../app/auth.js";
import { $ } from "../app/dom.js";
import { t } from "../app/i18n.js";
import { toaster } from "../app/toast.js";
import { setNotifier } from "./ui.js";
import { accountsTab } from "./accounts.js";
import { departmentsTab, routingTab } from "./reference.js";
import { calendarTab, deadlinesTab } from "./limits.js";
import { regionsTab } from "./regions.js";
import { auditTab } from "./audit.js";
import { catalogueTab } from "./catalogue.js";

const TABS = { accounts: accountsTab, departments: departmentsTab, routing: routingTab, catalogue: catalogueTab,
  deadlines: deadlinesTab, calendar: calendarTab, regions: regionsTab, audit: auditTab };

function show(name) {
  const tab = TABS[name] ? name : "accounts";
  for (const b of document.querySelectorAll("#tabs [data-tab]")) {
    b.setAttribute("aria-selected", String(b.dataset.tab === tab));
  }
  const panel = $("#panel");
  panel.replaceChildren();
  panel.dataset.tab = tab;
  TABS[tab](panel);
  if (window.location.hash !== "#" + tab) { window.history.replaceState(null, "", "#" + tab); }
}

function start(session) {
  $("#user-name").textContent = session.username;
  $("#scope").textContent = session.region_code ? t("admin.scope_region", { region: session.region_code })
    : t("admin.scope_all");
  $("#logout").onclick = () => { auth.logout(); };
  setNotifier(toaster($("#toast"), { ms: 4000, errorMs: 9000 }));
  for (const b of document.querySelectorAll("#tabs [data-tab]")) { b.onclick = () => show(b.dataset.tab); }
  show(window.location.hash.slice(1));
}

if (auth.require()) {
  const session = auth.session() || {};
  if (session.role !== "admin") {
    $("#panel").textContent = t("admin.not_admin");
  } else {
    start(session);
  }
}
