// Page-side half of importing a local GGUF file (protocol.md, "import"). A
// File cannot cross chrome.runtime messaging, but extension pages and the
// service worker share one OPFS origin: the page streams the file into
// OPFS/import-staging/ (inside the browser, no copy through JS memory) and
// then asks the worker to convert it into a model, which removes the staged
// file whatever the outcome.
//
//   const path = await dopplerStageImport(file);
//   port.postMessage({ type: 'import', id: crypto.randomUUID(), path, name: file.name });
'use strict';

async function dopplerStageImport(file) {
  const root = await navigator.storage.getDirectory();
  const dir = await root.getDirectoryHandle('import-staging', { create: true });
  const name = `${Date.now()}-${Math.random().toString(36).slice(2, 10)}.gguf`;
  const handle = await dir.getFileHandle(name, { create: true });
  const writable = await handle.createWritable();
  try {
    await file.stream().pipeTo(writable); // closes (commits) the writable
  } catch (err) {
    await dir.removeEntry(name).catch(() => {});
    throw err;
  }
  return `import-staging/${name}`;
}

self.dopplerStageImport = dopplerStageImport;
