// The requests filed from this browser (their tracking links and what the resident wrote), kept only here:
// the server's tracking view shows no description, so "what I asked" comes from the resident's own device.

const KEY = "gridcmd.r.mine";
const MAX = 20;

export function myRequests() {
  try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
}

export function remember(entry) {
  const list = myRequests().filter((r) => r.public_id !== entry.public_id);
  list.unshift(entry);
  localStorage.setItem(KEY, JSON.stringify(list.slice(0, MAX)));
}

export function findMine(publicId) {
  return myRequests().find((r) => r.public_id === publicId) || null;
}
