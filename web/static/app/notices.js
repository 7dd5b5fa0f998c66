// Notices (通知) for a worker (/m) or a liaison (/dept): the unread ones stay in a banner until marked read
// (POST /api/v1/notices/{id}/read; the sender sees it live). A `notice.sent` socket event refetches the list.
//
//   const banner = createNoticeBanner($("#notices"), { onNew: (n) => toast(...) });
//   socket onEvent: banner.apply(event);   onState "subscribed": banner.refresh();

import { get, post } from "./api.js";
import { h, fill } from "./dom.js";
import { t, fmtTime } from "./i18n.js";

export function createNoticeBanner(el, { onNew = () => {} } = {}) {
  let unread = [];
  let known = null;  // ids seen so far: a new one calls onNew
  const reading = new Set();

  function draw() {
    el.hidden = unread.length === 0;
    el.dataset.count = String(unread.length);
    fill(el, h("h2", { class: "notice-head" }, t("notice.unread", { n: unread.length })),
      unread.map((n) => h("article", { class: "notice", "data-priority": n.priority, "data-id": n.id },
        h("header", null, h("span", { class: "notice-prio" }, t("notice.prio_" + n.priority)),
          h("strong", { class: "notice-title" }, n.title)),
        h("p", { class: "notice-body" }, n.body),
        h("footer", null, h("span", { class: "notice-from" }, t("notice.from", { who: n.sender,
          at: fmtTime(n.created_at) })),
        h("button", { type: "button", class: "btn notice-read", disabled: reading.has(n.id),
          onclick: () => markRead(n) }, t("notice.mark_read"))))));
  }

  async function refresh() {
    unread = await get("/api/v1/notices/mine?unread=true");
    if (known) { unread.filter((n) => !known.has(n.id)).forEach(onNew); }
    known = new Set([...(known || []), ...unread.map((n) => n.id)]);
    draw();
  }

  async function markRead(notice) {
    reading.add(notice.id);
    draw();
    try {
      await post(`/api/v1/notices/${notice.id}/read`, {});
      unread = unread.filter((n) => n.id !== notice.id);
    } finally {
      reading.delete(notice.id);
      draw();
    }
  }

  return {
    refresh,
    apply(event) {
      if (event.kind === "notice.sent") { refresh().catch(() => {}); }
    },
  };
}
