// The /ws client (docs/realtime.md): auth frame, subscribe (with last_event_id to resume), pong to pings,
// reconnect with capped exponential backoff and jitter. Events arrive once each, in order, across reconnects;
// an event is identified by its PostgreSQL id (event.pg_id): one seen before (re-published after a Redis flush,
// replayed to a client that resumed across it) is not handed on twice.
// The server closes a socket with 4401 when its token expires: before that (the hello frame says when), the
// client trades the token for a fresh one (auth.renew, POST /api/v1/auth/renew) and sends it in another auth
// frame; the server answers {"type":"renewed","expires_at"}.
//
//   const sock = openSocket({ onEvent(event, id) {...}, onState(state, info) {...}, region: null });
//   sock.send({ type: "position", lon, lat });   // false when not connected
//   sock.reconnect();                           // drop and resume (as after a network failure)
//   sock.close();

import { auth } from "./auth.js";

const NO_RETRY = new Set([4401]);  // a bad or expired token: reconnecting cannot help
const RENEW_LEAD_MAX_S = 300;  // renew this long before expiry at most (10% of what is left, at least 5 s)
const RENEW_RETRY_MS = 10000;  // a renewal that could not be sent is tried again this often until expiry
const REMEMBERED = 5000;  // PostgreSQL ids of the last events handed on

// The last `size` ids, in insertion order: add() is false for one already there.
function recentIds(size) {
  const ids = new Set();
  return {
    add(id) {
      if (ids.has(id)) { return false; }
      ids.add(id);
      if (ids.size > size) { ids.delete(ids.values().next().value); }
      return true;
    },
  };
}

export function openSocket({ onEvent, onState = () => {}, region = null, lastEventId = null, token = null,
  renew = null }) {
  let ws = null;
  let closed = false;
  let attempt = 0;
  let timer = null;
  let renewTimer = null;
  let last = lastEventId;
  const seen = recentIds(REMEMBERED);

  function scheduleRenewal(expiresAt) {
    window.clearTimeout(renewTimer);
    if (!expiresAt) { return; }
    const left = expiresAt - Date.now() / 1000;
    const lead = Math.min(RENEW_LEAD_MAX_S, Math.max(5, left * 0.1));
    renewTimer = window.setTimeout(renewNow, Math.max(0, (left - lead) * 1000));
  }

  async function renewNow() {
    if (!ws || ws.readyState !== WebSocket.OPEN) { return; }  // a reconnect authenticates afresh anyway
    let fresh;
    try {
      fresh = await (renew ? renew() : auth.renew());
    } catch (e) {
      // 401: the session is over; the server closes the socket (4401) at expiry and the page signs in again.
      if (!e || e.status !== 401) { renewTimer = window.setTimeout(renewNow, RENEW_RETRY_MS); }
      return;
    }
    if (ws && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify({ type: "auth", token: fresh })); }
  }

  function handle(frame) {
    if (frame.type === "ping") {
      if (ws) { ws.send(JSON.stringify({ type: "pong" })); }
    } else if (frame.type === "event") {
      last = frame.id;
      if (frame.event.pg_id == null || seen.add(frame.event.pg_id)) { onEvent(frame.event, frame.id); }
    } else {
      if (frame.type === "hello" || frame.type === "renewed") { scheduleRenewal(frame.expires_at); }
      // reset: what came after `last` is gone (trimmed, Redis flushed) — continue from the stream's tail
      // (frame.id); the page refetches its state in onState("reset").
      if (frame.type === "reset" && frame.id) { last = frame.id; }
      // live: the stream position the subscription reached (every entry up to it was sent before this frame).
      // Resuming from it, a socket closed before any event came (e.g. 1012 on a rolling restart) misses nothing.
      if (frame.type === "live" && frame.id) { last = frame.id; }
      onState(frame.type, frame);  // e.g. "error", "reset", or the hub's acknowledgements
    }
  }

  function connect() {
    const proto = window.location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(proto + "//" + window.location.host + "/ws");
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "auth", token: token ? token() : auth.token() }));
      // batch: frames that wait together on the server come as one {"type":"batch","frames":[…]} frame.
      ws.send(JSON.stringify({ type: "subscribe", region, last_event_id: last, batch: true }));
      attempt = 0;
      onState("open");
    };
    ws.onmessage = (message) => {
      let frame;
      try { frame = JSON.parse(message.data); } catch (e) { return; }
      if (frame.type === "batch" && Array.isArray(frame.frames)) {
        frame.frames.forEach(handle);
      } else {
        handle(frame);
      }
    };
    ws.onclose = (ev) => {
      ws = null;
      window.clearTimeout(renewTimer);
      if (closed) { return; }
      if (NO_RETRY.has(ev.code)) { onState("unauthorized", ev); return; }
      onState("closed", ev);
      const delay = Math.min(30000, 500 * 2 ** attempt) * (0.75 + Math.random() / 2);
      attempt += 1;
      timer = window.setTimeout(connect, delay);
    };
  }

  connect();
  return {
    send(frame) {
      if (!ws || ws.readyState !== WebSocket.OPEN) { return false; }
      ws.send(JSON.stringify(frame));
      return true;
    },
    get connected() { return !!ws && ws.readyState === WebSocket.OPEN; },
    get lastEventId() { return last; },
    // Drop the connection as a network failure would: the client reconnects and resumes from lastEventId.
    reconnect() {
      if (ws) { ws.close(3000, "reconnect"); }
    },
    close() {
      closed = true;
      window.clearTimeout(timer);
      window.clearTimeout(renewTimer);
      if (ws) { ws.close(1000); }
    },
  };
}
