// Actions taken on the phone, kept (IndexedDB) until the server has them. Each action gets its Idempotency-Key
// when it is created, so every retry carries the same key and the server applies it once (web/idempotency.py).
// Order is kept: an accept is sent before the arrival and the resolution that follow it.
//
//   const outbox = await createOutbox({ user, onChange, onSent, onRefused });
//   outbox.add({ kind: "accept", orderId, method: "POST", path, body, photos: [Blob] });

import { api, ApiError, newKey, retryable } from "./api.js";
import { openStore } from "./idb.js";

const BASE_DELAY_MS = 1000;
const MAX_DELAY_MS = 60000;

export function backoff(attempts) {
  return Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempts) * (0.75 + Math.random() / 2);
}

export async function createOutbox({ user, onChange = () => {}, onSent = () => {}, onRefused = () => {} }) {
  const store = await openStore("gridcmd-outbox", "actions");
  let running = null;
  let again = false;
  let timer = null;

  async function mine() {
    return (await store.all()).filter((a) => a.user === user);
  }

  async function uploadPhotos(action) {
    for (const photo of action.photos || []) {
      if (photo.uploadId) { continue; }
      const form = new FormData();
      form.append("file", photo.blob, photo.name || "photo.jpg");
      const saved = await api("POST", "/api/v1/uploads", { form });
      photo.uploadId = saved.id;
      await store.put(action);  // a retry after this point does not upload the photo again
    }
    return (action.photos || []).map((p) => p.uploadId);
  }

  async function sendOne(action) {
    const body = { ...(action.body || {}) };
    if (action.photos && action.photos.length) { body.photos = await uploadPhotos(action); }
    return api(action.method, action.path, { body, idempotencyKey: action.key });
  }

  async function drain() {
    for (const action of await mine()) {
      if (action.nextAt && action.nextAt > Date.now()) { schedule(action.nextAt - Date.now()); return; }
      try {
        const result = await sendOne(action);
        await store.del(action.id);
        onSent(action, result || {});
      } catch (err) {
        if (retryable(err) || (err instanceof ApiError && err.status === 401)) {
          action.attempts = (action.attempts || 0) + 1;
          action.nextAt = Date.now() + backoff(action.attempts - 1);
          action.lastError = err.message;
          await store.put(action);
          schedule(action.nextAt - Date.now());
          return;  // keep the order: nothing after it goes first
        }
        await store.del(action.id);
        onRefused(action, err);
      } finally {
        onChange(await mine());
      }
    }
  }

  function schedule(ms) {
    window.clearTimeout(timer);
    timer = window.setTimeout(flush, Math.max(0, ms));
  }

  // One drain at a time in this tab (and across tabs when the browser has Web Locks).
  function flush() {
    if (running) { again = true; return running; }  // an action added meanwhile: drain once more after
    const run = () => drain().catch(() => schedule(BASE_DELAY_MS));
    running = (navigator.locks ? navigator.locks.request("gridcmd-outbox", run) : run())
      .finally(() => {
        running = null;
        if (again) { again = false; flush(); }
      });
    return running;
  }

  // Back online: what waits is sent now rather than at its backoff time.
  async function retryNow() {
    for (const action of await mine()) {
      if (action.nextAt) { action.nextAt = 0; await store.put(action); }
    }
    return flush();
  }

  window.addEventListener("online", retryNow);
  onChange(await mine());
  flush();

  return {
    async add(spec) {
      const action = { ...spec, user, key: newKey(), createdAt: Date.now(), attempts: 0, nextAt: 0 };
      action.photos = (spec.photos || []).map((blob, i) => ({ blob, name: "photo-" + i + ".jpg", uploadId: null }));
      await store.put(action);
      onChange(await mine());
      flush();
      return action;
    },
    pending: mine,
    flush,
    retryNow,
  };
}
