// Reference data a page shows by name: categories (GET /api/v1/categories) and region names (from the screen
// board). Names follow the page language; an unknown code shows as itself, never as a blank.
import { get } from "./api.js";
import { lang } from "./i18n.js";

const categories = new Map();
const regions = new Map();
const departments = new Map();

const CACHE_KEY = "gridcmd.categories";

export async function loadCategories() {
  let items;
  try {
    items = (await get("/api/v1/categories", { auth: false })).items;
    window.localStorage.setItem(CACHE_KEY, JSON.stringify(items));
  } catch (e) {
    // Offline (the worker app starts from its cache): the last list this browser saw, if any.
    items = JSON.parse(window.localStorage.getItem(CACHE_KEY) || "null");
    if (!items) { throw e; }
  }
  categories.clear();
  for (const c of items) { categories.set(c.code, c); }
  return items;
}

export function categoryList() {
  return Array.from(categories.values());
}

export function category(code) {
  return categories.get(code) || null;
}

export function categoryName(code) {
  const c = categories.get(code);
  if (!c) { return code || ""; }
  return lang === "en" ? c.name_en : c.name_zh;
}

export function isEmergency(code) {
  const c = categories.get(code);
  return !!c && c.group === "emergency";
}

export function setRegionNames(names) {
  regions.clear();
  for (const [code, r] of Object.entries(names || {})) { regions.set(code, r); }
}

export function setDepartmentNames(names) {
  departments.clear();
  for (const [code, name] of Object.entries(names || {})) { departments.set(code, name); }
}

export function departmentName(code) {
  return departments.get(code) || code || "";
}

export function regionName(code) {
  const r = regions.get(code);
  return r ? r.name : code || "";
}

// The most telling place of an incident: street and community names from its region chain.
export function placeOf(incident) {
  const names = [];
  for (const code of incident.region_path || []) {
    const r = regions.get(code);
    if (r && (r.level === "street" || r.level === "community")) { names.push(r.name); }
  }
  return names.join(" · ");
}

// [code, name] pairs for pickers (the department and region names the screen board gave).
export function departmentList() {
  return Array.from(departments.entries()).sort((a, b) => a[0].localeCompare(b[0]));
}

export function regionList() {
  return Array.from(regions.entries()).map(([code, r]) => [code, r.name, r.level]);
}
