// The /ws client (docs/realtime.md): auth frame, subscribe (with last_event_id to resume), pong to pings,
// reconnect with capped exponential backoff and jitter. Events arrive once each, in order, across reconnects.
//
//   const sock = openSocket({ onEvent(event, id) {...}, onState(state, info) {...}, region: null });
//   sock.send({ type: "position", lon, lat });   // false when not connected
//   sock.reconnect();                           // drop and resume (as after a network failure)
//   sock.close();

const auth = () => window.gridcmd.auth;
const NO_RETRY = new Set([4401]);  // a bad or expired token: reconnecting cannot help

export function openSocket({ onEvent, onState = () => {}, region = null, lastEventId = null, token = null }) {
  let ws = null;
  let closed = false;
  let attempt = 0;
  let timer = null;
  let last = lastEventId;

  function connect() {
    const proto = window.location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(proto + "//" + window.location.host + "/ws");
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "auth", token: token ? token() : auth().token() }));
      ws.send(JSON.stringify({ type: "subscribe", region, last_event_id: last }));
      attempt = 0;
      onState("open");
    };
    ws.onmessage = (message) => {
      let frame;
      try { frame = JSON.parse(message.data); } catch (e) { return; }
      if (frame.type === "ping") {
        ws.send(JSON.stringify({ type: "pong" }));
      } else if (frame.type === "event") {
        last = frame.id;
        onEvent(frame.event, frame.id);
      } else {
        // reset: what came after `last` is gone (trimmed, Redis flushed) — continue from the stream's tail
        // (frame.id); the page refetches its state in onState("reset").
        if (frame.type === "reset" && frame.id) { last = frame.id; }
        onState(frame.type, frame);  // e.g. "error", "reset", or the hub's acknowledgements
      }
    };
    ws.onclose = (ev) => {
      ws = null;
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
      if (ws) { ws.close(1000); }
    },
  };
}
