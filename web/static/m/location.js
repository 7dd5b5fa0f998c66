// Sharing the worker's position while on duty: navigator.geolocation.watchPosition → a position frame over
// the socket, or (socket down) a batch POST /api/v1/workers/me/position. GPS is WGS-84, said explicitly.

import { post } from "../app/api.js";

const MIN_INTERVAL_MS = 5000;   // a fix at most every 5 s…
const MIN_MOVE_M = 15;          // …unless the worker moved this far
const KEEPALIVE_MS = 60000;     // standing still: still report once a minute (presence expires otherwise)
const MAX_BUFFER = 500;         // the API's batch limit

function metres(a, b) {
  const rad = Math.PI / 180;
  const x = (b.lon - a.lon) * rad * Math.cos(((a.lat + b.lat) / 2) * rad);
  const y = (b.lat - a.lat) * rad;
  return Math.sqrt(x * x + y * y) * 6371000;
}

export function createTracker({ socket, onFix = () => {}, onError = () => {} }) {
  let watchId = null;
  let last = null;
  let lastSent = 0;
  let buffer = [];
  let flushTimer = null;
  let keepalive = null;
  let current = null;

  async function flushBuffer() {
    if (!buffer.length) { return; }
    const batch = buffer.slice(0, MAX_BUFFER);
    try {
      await post("/api/v1/workers/me/position", { positions: batch });
      buffer = buffer.slice(batch.length);
    } catch (e) { /* offline: kept, sent with the next batch */ }
  }

  function report(fix, force) {
    const now = Date.now();
    if (!force && last && now - lastSent < MIN_INTERVAL_MS && metres(last, fix) < MIN_MOVE_M) { return; }
    last = fix;
    lastSent = now;
    if (socket && socket.send({ type: "position", lon: fix.lon, lat: fix.lat, crs: "wgs84", ts: fix.ts })) { return; }
    buffer.push({ lon: fix.lon, lat: fix.lat, crs: "wgs84", ts: new Date(fix.ts * 1000).toISOString() });
    if (buffer.length > MAX_BUFFER) { buffer = buffer.slice(-MAX_BUFFER); }
    if (buffer.length === 1) { window.setTimeout(flushBuffer, 2000); }  // the first fix should not wait 15 s
  }

  function onPosition(pos) {
    current = { lon: pos.coords.longitude, lat: pos.coords.latitude, ts: pos.timestamp / 1000,
      accuracy: pos.coords.accuracy };
    onFix(current);
    report(current, false);
  }

  return {
    start() {
      if (watchId !== null) { return; }
      // Browsers give location only to secure pages (https://, or localhost): on http:// at a LAN address
      // the call would just fail as "denied". Say why instead (docs/operations.md: HTTPS and the local CA).
      if (!window.isSecureContext) { onError("insecure"); return; }
      if (!navigator.geolocation) { onError("unsupported"); return; }
      watchId = navigator.geolocation.watchPosition(onPosition, (err) => onError(err.code === 1 ? "denied" : "error"),
        { enableHighAccuracy: true, maximumAge: 10000, timeout: 30000 });
      flushTimer = window.setInterval(flushBuffer, 15000);
      keepalive = window.setInterval(() => { if (current) { report({ ...current, ts: Date.now() / 1000 }, true); } },
        KEEPALIVE_MS);
    },
    stop() {
      if (watchId !== null) { navigator.geolocation.clearWatch(watchId); }
      watchId = null;
      window.clearInterval(flushTimer);
      window.clearInterval(keepalive);
      flushBuffer();
    },
    // The socket (re)connected: tell the server where we are now rather than at the next move.
    resend() { if (current && watchId !== null) { report({ ...current, ts: Date.now() / 1000 }, true); } },
    get current() { return current; },
    get active() { return watchId !== null; },
    flush: flushBuffer,
  };
}
