// A list kept in step with data without rebuilding it: a row is re-created only when its signature changes,
// and existing rows are moved, not replaced. Screens update on every event; rebuilding whole lists would
// make rows flicker (and lose hover/selection) many times a minute.
//
//   const rows = keyedList(ol, (item) => item.id, (item) => JSON-ish signature, (item) => <li>);
//   rows.update(items);

export function keyedList(container, keyOf, signatureOf, build) {
  const rows = new Map();  // key → {el, sig}
  return {
    update(items) {
      const keep = new Set();
      let previous = null;
      for (const item of items) {
        const key = keyOf(item);
        keep.add(key);
        const sig = signatureOf(item);
        let row = rows.get(key);
        if (!row || row.sig !== sig) {
          const el = build(item);
          if (row) { row.el.replaceWith(el); }
          row = { el, sig };
          rows.set(key, row);
        }
        const wanted = previous ? previous.nextSibling : container.firstChild;
        if (wanted !== row.el) { container.insertBefore(row.el, wanted); }
        previous = row.el;
      }
      for (const [key, row] of rows) {
        if (!keep.has(key)) { row.el.remove(); rows.delete(key); }
      }
    },
  };
}
