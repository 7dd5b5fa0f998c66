// The connection badge of the field pages (worker app, liaison desk): online, connecting or offline, and how
// many actions wait in the outbox.
//
//   const net = netBadge($("#net"));  socket onState → net.socket(state);  outbox onChange → net.waiting(n)
import { t } from "./i18n.js";

export function netBadge(el) {
  let socketState = "connecting";
  let waiting = 0;

  function draw() {
    const state = navigator.onLine ? socketState : "offline";
    el.dataset.state = state;
    el.hidden = false;  // the worker app shows it once signed in (before that there is no connection to speak of)
    el.textContent = t("m.net_" + state) + (waiting ? " · " + t("m.waiting_send", { n: waiting }) : "");
  }
  window.addEventListener("online", draw);
  window.addEventListener("offline", draw);

  return {
    // A socket state (app/socket.js onState): open → online, closed → connecting; the others keep it.
    socket(state) {
      if (state === "open" || state === "closed") { socketState = state === "open" ? "online" : "connecting"; }
      draw();
    },
    waiting(n) { waiting = n; draw(); },
  };
}
