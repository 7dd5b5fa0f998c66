// The one JSON API client: bearer token (from auth.js), JSON bodies, the domain error shape, Idempotency-Key.
// A network failure is ApiError with status 0, so callers can tell "not sent" from "refused".
import { auth } from "./auth.js";

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

let unauthorized = () => { auth.clear(); auth.toLogin(); };

// A page with its own sign-in view (the worker app) replaces the default "go to /login".
export function onUnauthorized(fn) { unauthorized = fn; }

// Worth trying again later: not sent, a server hiccup, or slowed down.
export function retryable(err) {
  return err instanceof ApiError && (err.status === 0 || err.status === 408 || err.status === 429 || err.status >= 500);
}

// A fresh key per action, made when the action is created (so every retry of it carries the same one).
export function newKey() {
  if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
  const b = crypto.getRandomValues(new Uint8Array(16));  // randomUUID needs a secure context; this does not
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

// api("POST", "/api/v1/orders/3/accept", { body: {...}, idempotencyKey, auth: true, form: FormData, headers: {...} })
export async function api(method, path, opts = {}) {
  const headers = { Accept: "application/json", ...(opts.headers || {}) };
  const withAuth = opts.auth !== false;
  const token = withAuth && auth.token();
  if (token) { headers.Authorization = "Bearer " + token; }
  if (opts.idempotencyKey) { headers["Idempotency-Key"] = opts.idempotencyKey; }
  let body;
  if (opts.form !== undefined) {
    body = opts.form;
  } else if (opts.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(opts.body);
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body, signal: opts.signal, cache: "no-store" });
  } catch (e) {
    throw new ApiError(0, "network", e && e.message);
  }
  if (response.status === 401 && withAuth) { unauthorized(); }
  if (!response.ok) {
    let err = {};
    try { err = (await response.json()).error || {}; } catch (e) { /* not JSON: keep the status */ }
    throw new ApiError(response.status, err.code || "http_" + response.status, err.message || response.statusText,
      err.details);
  }
  if (response.status === 204) { return null; }
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : response.text();
}

export const get = (path, opts) => api("GET", path, opts);
export const post = (path, body, opts = {}) => api("POST", path, { ...opts, body });
