// Model list and downloads, shared by the popup's first-run flow and the
// options page (the model manager).

import { client } from './client.js';
import { formatBytes } from './common.js';

// listModels asks the worker for the installed models and the catalog:
// {installed: [...], catalog: [...], defaultModel}. Installed models look
// like storage/store.Model (id, name, bytes, ready, downloaded, corrupt,
// active, catalogId), catalog entries like storage/store.CatalogEntry (id,
// name, architecture, quantization, bytes, license, url).
export async function listModels() {
  const msg = await client.request({ type: 'models' }, ['models', 'error']);
  if (msg.type === 'error') throw Object.assign(new Error(msg.message || msg.code), { reply: msg });
  const all = Array.isArray(msg.models) ? msg.models : [];
  // Either separate lists, or one list where installed entries say so.
  const installed = Array.isArray(msg.installed)
    ? msg.installed
    : all.filter((m) => m.installed || m.ready !== undefined || m.downloaded !== undefined);
  let catalog = Array.isArray(msg.catalog) ? msg.catalog : all.filter((m) => !installed.includes(m) && m.url);
  return { installed, catalog, defaultModel: msg.defaultModel || msg.default || '', raw: msg };
}

// describeProgress turns a progress reply into a sentence and a fraction
// (null when the total is unknown).
export function describeProgress(p) {
  const phase = { downloading: 'Downloading', converting: 'Converting', verifying: 'Checking', importing: 'Importing', copying: 'Copying the file' }[p.phase] || p.phase || 'Working';
  const frac = p.total > 0 ? Math.min(1, p.bytes / p.total) : null;
  let text = phase;
  if (p.total > 0) text += ` ${formatBytes(p.bytes)} of ${formatBytes(p.total)} (${Math.round(frac * 100)}%)`;
  else if (p.bytes > 0) text += ` ${formatBytes(p.bytes)}`;
  if (p.rate > 0) text += `, ${formatBytes(p.rate)}/s`;
  return { text, frac };
}

// showProgress updates a <progress> element and its text.
export function showProgress(bar, textEl, p) {
  const { text, frac } = describeProgress(p);
  bar.hidden = false;
  if (frac === null) bar.removeAttribute('value');
  else bar.value = frac;
  bar.setAttribute('aria-valuetext', text);
  if (textEl) textEl.textContent = text;
}

// requestOrigins asks for the host permission the worker's fetch of url
// needs (protocol.md "Download permissions"). Call it first thing in a click
// handler: Chrome shows the prompt only during the user's gesture. It
// resolves false when refused or not asked (the download may still work
// where the server allows CORS).
export function requestOrigins(url) {
  let origins;
  if (!/^https?:\/\//i.test(url)) return Promise.resolve(false);
  try {
    origins = [new URL(url).origin + '/*'];
  } catch {
    return Promise.resolve(false);
  }
  if (/(^|\.)(huggingface\.co|hf\.co)$/.test(new URL(url).hostname)) {
    // Hugging Face file URLs redirect to its CDN hosts.
    origins.push('https://*.hf.co/*', 'https://*.huggingface.co/*');
  }
  try {
    return chrome.permissions.request({ origins }).catch(() => false);
  } catch {
    return Promise.resolve(false);
  }
}

// download starts a download ({catalogId} or {url}) and reports progress;
// it resolves with the final done or error reply.
export function download(what, onProgress) {
  return client.stream({ type: 'download', ...what }, { progress: onProgress }).done;
}
