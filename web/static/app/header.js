// The bar of the command-centre pages (console, wall display): who is signed in, sign out, a clock ticking every
// second, and whether the socket is live.
import { auth } from "./auth.js";
import { $ } from "./dom.js";
import { fmtNow, t } from "./i18n.js";

export function startHeader({ withDate = false } = {}) {
  const who = auth.session() || {};
  $("#user-name").textContent = who.username || "";
  $("#logout").addEventListener("click", () => { auth.logout(); });
  const tick = () => {
    $("#clock").textContent = fmtNow({ withDate });
  };
  tick();
  window.setInterval(tick, 1000);
}

// For the socket's onState: "live" once subscribed and caught up (the hub's frame after any resumed backlog),
// "reconnecting" while closed or refused; the other states leave the badge as it is.
export function liveBadge(el) {
  return (state) => {
    if (state === "live" || state === "closed" || state === "unauthorized") {
      el.dataset.state = state;
      el.textContent = t(state === "live" ? "common.live" : "common.reconnecting");
    }
  };
}
