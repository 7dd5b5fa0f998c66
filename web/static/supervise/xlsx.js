// Files from the API with the bearer token: a download the browser saves (XLSX of a ranking or of any table).
import { auth } from "../app/auth.js";
import { ApiError } from "../app/api.js";

async function save(response, name) {
  if (!response.ok) {
    let err = {};
    try { err = (await response.json()).error || {}; } catch (e) { /* not JSON */ }
    throw new ApiError(response.status, err.code, err.message || response.statusText);
  }
  const url = URL.createObjectURL(await response.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10000);
}

const bearer = () => ({ Authorization: "Bearer " + auth.token() });

export async function downloadBlob(path, name) {
  await save(await fetch(path, { headers: bearer(), cache: "no-store" }), name);
}

// A table the page shows ({ headers, rows } of text) as XLSX, through POST /api/v1/assessment/table.xlsx.
export async function downloadTable(title, { headers, rows }) {
  const body = JSON.stringify({ title: title.slice(0, 200) || "table", headers, rows });
  await save(await fetch("/api/v1/assessment/table.xlsx", { method: "POST", body,
    headers: { ...bearer(), "Content-Type": "application/json" } }), "table.xlsx");
}
