// Photos from the phone's camera or gallery: checked (type, size), shrunk on a canvas to a JPEG before
// upload (a 12-megapixel shot becomes ~300 kB), shown as thumbnails the user can remove.
//
//   const field = photoField({ t, max: 3 });  form.append(field.el);  ... await field.blobs()

import { auth } from "./auth.js";
import { h } from "./dom.js";

export const TYPES = ["image/jpeg", "image/png", "image/webp"];
export const MAX_INPUT_BYTES = 25 * 1024 * 1024;  // what we agree to decode on a phone
export const MAX_SIDE = 1600;
export const MAX_OUTPUT_BYTES = 1024 * 1024;  // far below the server's limit (GRIDCMD_MAX_UPLOAD_BYTES)

export class PhotoError extends Error {
  constructor(key) { super(key); this.key = key; }
}

export async function compress(file, { maxSide = MAX_SIDE, quality = 0.82 } = {}) {
  if (!TYPES.includes(file.type)) { throw new PhotoError("photo.bad_type"); }
  if (file.size > MAX_INPUT_BYTES) { throw new PhotoError("photo.too_big"); }
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch (e) {
    throw new PhotoError("photo.unreadable");
  }
  const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";  // a transparent PNG gets a white background, not black, as a JPEG
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  for (let q = quality; q >= 0.4; q -= 0.15) {
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", q));
    if (blob && blob.size <= MAX_OUTPUT_BYTES) { return blob; }
  }
  throw new PhotoError("photo.too_big");
}

// A file input with thumbnails. `onError(key)` gets a catalogue key when a file is refused.
export function photoField({ t, max = 3, onError = () => {} }) {
  const items = [];  // { blob, url }
  const thumbs = h("div", { class: "photo-thumbs" });
  const input = h("input", { type: "file", accept: TYPES.join(","), multiple: true, class: "photo-input",
    "aria-label": t("photo.add") });
  const button = h("label", { class: "btn photo-add" }, t("photo.add"), input);  // the label opens the picker

  function draw() {
    thumbs.replaceChildren(...items.map((item, i) => h("figure", { class: "photo-thumb" },
      h("img", { src: item.url, alt: t("photo.alt", { n: i + 1 }) }),
      h("button", { type: "button", class: "photo-remove", "aria-label": t("photo.remove"),
        onclick: () => { URL.revokeObjectURL(item.url); items.splice(i, 1); draw(); } }, "×"))));
    button.hidden = items.length >= max;
  }

  input.addEventListener("change", async () => {
    for (const file of [...input.files].slice(0, max - items.length)) {
      try {
        const blob = await compress(file);
        items.push({ blob, url: URL.createObjectURL(blob) });
      } catch (e) {
        onError(e instanceof PhotoError ? e.key : "photo.unreadable");
      }
    }
    input.value = "";
    draw();
  });

  return {
    el: h("div", { class: "photo-field" }, thumbs, button),
    blobs: () => items.map((i) => i.blob),
    clear() { items.forEach((i) => URL.revokeObjectURL(i.url)); items.length = 0; draw(); },
  };
}

// A stored photo in a timeline. GET /api/v1/uploads/{id} wants the bearer token, which an <img src> cannot
// send, so the bytes are fetched and shown through a blob: URL; a tap opens it full size.
export function storedPhoto(uploadId, alt) {
  const img = h("img", { class: "stored-photo", alt });
  const token = auth.token();
  fetch("/api/v1/uploads/" + encodeURIComponent(uploadId), { headers: { Authorization: "Bearer " + token } })
    .then((r) => (r.ok ? r.blob() : Promise.reject(new Error(String(r.status)))))
    .then((blob) => {
      img.src = URL.createObjectURL(blob);
      img.addEventListener("click", () => img.classList.toggle("zoomed"));
    })
    .catch(() => { img.classList.add("missing"); });
  return img;
}
