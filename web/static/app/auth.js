// The bearer token the login page obtained, kept in this browser; every page's API calls go through here.
// Tokens expire (token_ttl_s): renew() trades the current one for a fresh one of the same session (the socket
// client calls it before expiry); logout() ends the session on the server too (docs/security.md).
import { t } from "./i18n.js";

const KEY = "gridcmd.auth";

function load() {
  try { return JSON.parse(window.localStorage.getItem(KEY) || "null"); } catch (e) { return null; }
}

const failed = (message, status) => Object.assign(new Error(message), { status });

export const auth = {
  session: load,
  token() { const s = load(); return s && s.access_token; },
  save(data) { window.localStorage.setItem(KEY, JSON.stringify(data)); },
  clear() { window.localStorage.removeItem(KEY); },
  // Unix seconds when the stored token expires (0 when unknown).
  expiresAt() { const s = load(); return (s && s.expires_at) || 0; },
  // A fresh token of the same session (POST /api/v1/auth/renew), saved for every page of this browser.
  // Resolves to the new token; rejects with .status (401: log in again; 0: not sent).
  async renew() {
    const s = load();
    if (!s || !s.access_token) { throw failed("not signed in", 401); }
    let r;
    try {
      r = await fetch("/api/v1/auth/renew", { method: "POST", headers: { Authorization: "Bearer " + s.access_token } });
    } catch (e) {
      throw failed(e && e.message, 0);
    }
    if (!r.ok) { throw failed("HTTP " + r.status, r.status); }
    const data = await r.json();
    const now = load();
    // Another tab may have renewed (or signed out) meanwhile: keep whichever lives longer.
    if (now && now.access_token !== s.access_token && (now.expires_at || 0) >= data.expires_at) {
      return now.access_token;
    }
    auth.save({ ...s, ...data });
    return data.access_token;
  },
  // Sign out here and on the server (the token's session is revoked: sockets close, renewals stop). Resolves once
  // the server was told; offline, the token still expires on its own.
  async signOut() {
    const token = auth.token();
    auth.clear();
    if (token) {
      await fetch("/api/v1/auth/logout", { method: "POST", headers: { Authorization: "Bearer " + token } })
        .catch(() => {});
    }
  },
  // Sign out, then to the login page.
  async logout() {
    await auth.signOut();
    auth.toLogin();
  },
  toLogin() {
    const next = window.location.pathname + window.location.search;
    window.location.replace("/login?next=" + encodeURIComponent(next));
  },
  // A page that needs a login calls this first: false means it is on its way to /login.
  require() {
    if (auth.token()) { return true; }
    auth.toLogin();
    return false;
  },
  // Only a path of this site may be a redirect target after login. The candidate is resolved the way the
  // browser will resolve it (URL parsing drops tabs and newlines and reads "\\" as "/", so "/%09/evil.example"
  // once decoded, "//evil.example" and "/\\evil.example" all name another host) and must stay on this origin.
  safeNext(next) {
    const fallback = "/screen";
    if (typeof next !== "string" || next.charAt(0) !== "/" || /[\u0000-\u001f\u007f\\]/.test(next)) { return fallback; }
    let url;
    try { url = new URL(next, window.location.origin); } catch (e) { return fallback; }
    if (url.origin !== window.location.origin || (url.protocol !== "http:" && url.protocol !== "https:")) {
      return fallback;
    }
    return url.pathname + url.search + url.hash;
  },
};

// The password grant (POST /api/v1/auth/token) of the login page and the worker app's own sign-in. Resolves to
// the token response (not yet saved: the caller decides); a refusal or a failed request rejects with an Error
// whose message is for the user, in the page's language.
export async function requestToken(username, password) {
  let r;
  try {
    r = await fetch("/api/v1/auth/token", { method: "POST", body: new URLSearchParams({ username, password }) });
  } catch (e) {
    throw new Error(t("login.error"));
  }
  if (r.status === 401 || r.status === 422) { throw new Error(t("login.failed")); }
  if (r.status === 429) { throw new Error(t("login.throttled", { s: r.headers.get("Retry-After") || "60" })); }
  if (!r.ok) { throw new Error(t("login.error")); }
  return r.json();
}

// For tests and diagnostics in the browser console (the code imports `auth`).
window.gridcmd = window.gridcmd || {};
window.gridcmd.auth = auth;
