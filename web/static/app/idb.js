// A tiny promise wrapper over one IndexedDB object store (auto-increment ids). IndexedDB keeps Blobs (photos)
// as they are, which localStorage cannot. Falls back to memory when IndexedDB is unavailable (private mode).

function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function memoryStore() {
  const rows = new Map();
  let next = 1;
  return {
    async all() { return [...rows.values()].sort((a, b) => a.id - b.id); },
    async put(row) { if (row.id == null) { row.id = next++; } rows.set(row.id, structuredClone(row)); return row.id; },
    async del(id) { rows.delete(id); },
  };
}

export async function openStore(dbName, storeName) {
  if (!window.indexedDB) { return memoryStore(); }
  let db;
  try {
    const request = indexedDB.open(dbName, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(storeName, { keyPath: "id", autoIncrement: true });
    db = await done(request);
  } catch (e) {
    return memoryStore();
  }
  const store = (mode) => db.transaction(storeName, mode).objectStore(storeName);
  return {
    async all() { return done(store("readonly").getAll()); },
    async put(row) {
      if (row.id == null) { delete row.id; }  // let the store number it
      const id = await done(store("readwrite").put(row));
      row.id = id;
      return id;
    },
    async del(id) { return done(store("readwrite").delete(id)); },
  };
}
