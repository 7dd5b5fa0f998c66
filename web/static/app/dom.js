// Building elements from data with text only: whatever a resident or worker typed is never parsed as HTML.
// h("li", { class: "row", onclick: fn, "data-id": 3 }, "text", child, [more, children])

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) { continue; }
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      el.className = value;
    } else if (name === "innerHTML" || name === "outerHTML") {
      throw new Error("dom.h never sets HTML");
    } else if (name in el && typeof value !== "string") {
      el[name] = value;  // properties such as disabled, checked, hidden, value
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) { continue; }
    if (Array.isArray(child)) { append(el, child); continue; }
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// Replace an element's content with new children (text or nodes).
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

// Hide the trailing children of a scroll-less list that would show only in part (a wall display has no one
// to scroll; a half row reads as a glitch). Call after the list is in the document, with every child shown.
export function clipToFit(list) {
  const bottom = list.getBoundingClientRect().bottom;
  for (const child of Array.from(list.children)) {
    child.hidden = child.getBoundingClientRect().bottom > bottom + 1;
  }
}
