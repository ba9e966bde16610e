// Shared by the popup, the side panel and the options page: settings,
// user-facing error texts, the engine status line, the target tab and its
// text, and small DOM helpers.

import { client } from './client.js';

// Settings live in chrome.storage.local under "settings" (they are
// preferences, kept across browser restarts). 0 or '' means "the engine's
// default" (the model's context, the task's token budget, the page's
// language).
export const DEFAULT_SETTINGS = Object.freeze({
  defaultModel: '',
  temperature: 0, // greedy: summaries and rewrites are reproducible
  topP: 1,
  maxTokens: 0,
  contextSize: 0,
  outputLanguage: '',
  summaryType: 'key-points',
  summaryLength: 'short',
  summaryFormat: 'markdown',
});

export async function loadSettings() {
  const { settings } = await chrome.storage.local.get('settings');
  return { ...DEFAULT_SETTINGS, ...(settings || {}) };
}

export async function saveSettings(patch) {
  const settings = { ...(await loadSettings()), ...patch };
  await chrome.storage.local.set({ settings });
  return settings;
}

// generationOptions are the options every task request carries.
export function generationOptions(s) {
  const o = { temperature: Number(s.temperature) || 0, topP: Number(s.topP) || 1 };
  // Sampled answers draw from a fresh seed each request (the engine's
  // default is a fixed one): asking again, or Regenerate, gives another
  // answer. Greedy answers need none.
  if (o.temperature > 0) o.seed = crypto.getRandomValues(new Uint32Array(1))[0];
  if (Number(s.maxTokens) > 0) o.maxTokens = Number(s.maxTokens);
  // The engine sizes its context when it loads a model: it reads the
  // setting from chrome.storage.local itself; sending it too lets a worker
  // that supports per-request context sizes use it.
  if (Number(s.contextSize) > 0) o.contextSize = Number(s.contextSize);
  if (s.defaultModel) o.model = s.defaultModel;
  return o;
}

// Error texts by protocol code: what happened and what the user can do.
const ERROR_TEXT = {
  'no-webgpu':
    'WebGPU is not available in this browser, so Doppler cannot run a model here. Use an up-to-date Chrome on a computer with a supported GPU, and check that WebGPU is not turned off (chrome://gpu).',
  'no-model': 'No model is installed yet. Download or import one in Doppler’s settings.',
  'too-big-for-gpu':
    'This model is too big for your GPU’s memory. Pick a smaller model (or a smaller context size) in Doppler’s settings.',
  'context-overflow':
    'The text is longer than the model’s context can hold. Select a shorter passage, raise the context size in Doppler’s settings, or pick a model with a longer context.',
  quota: 'There is not enough storage space for this model. Free some space or delete a model you no longer use.',
  network: 'The download failed because of a network problem. Check your connection and try again: it resumes where it stopped.',
  'corrupt-model': 'The model’s files are damaged. Delete the model and download it again.',
  cancelled: 'Stopped.',
  'worker-restarted': 'The engine stopped while working (the browser ended its background worker). Try again: it starts anew.',
  internal: 'Something went wrong inside Doppler.',
};

// errorText returns the message to show for an error reply.
export function errorText(msg) {
  const base = ERROR_TEXT[msg.code] || ERROR_TEXT.internal;
  // The engine's own sentence adds detail for the codes where it helps.
  const detail = msg.message && !['cancelled', 'worker-restarted'].includes(msg.code) ? msg.message : '';
  return detail && detail !== base ? `${base} (${detail})` : base;
}

// el builds an element: el('button', {type:'button', class:'x', onclick}, 'text', child...).
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  e.append(...children.filter((c) => c !== undefined && c !== null && c !== false));
  return e;
}

export function formatBytes(n) {
  if (!Number.isFinite(n) || n <= 0) return '0 B';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  const k = Math.min(units.length - 1, Math.floor(Math.log10(n) / 3));
  const v = n / 1000 ** k;
  return `${v >= 100 || k === 0 ? Math.round(v) : v.toFixed(1)} ${units[k]}`;
}

// Engine status --------------------------------------------------------------

// showStatus renders the worker's status reply into el: the GPU and the
// model, or why there is none.
export function showStatus(el, msg) {
  el.replaceChildren();
  const line = (label, value) => {
    const row = document.createElement('div');
    const b = document.createElement('b');
    b.textContent = label + ': ';
    row.append(b, String(value));
    el.append(row);
  };
  if (msg.type !== 'status') {
    line('Engine', errorText(msg));
    return;
  }
  if (!msg.webgpu) {
    line('WebGPU', 'unavailable');
    line('Why', msg.reason || ERROR_TEXT['no-webgpu']);
    return;
  }
  const a = msg.webgpu.adapter || {};
  line('GPU', [a.vendor, a.architecture, a.description].filter(Boolean).join(' · ') || 'unknown adapter');
  if (a.isFallbackAdapter) line('Note', 'software (fallback) adapter: models run slowly');
  line('Features', (msg.webgpu.features || []).join(', ') || 'none');
  const lim = msg.webgpu.limits || {};
  if (lim.maxBufferSize) line('Max buffer', formatBytes(lim.maxBufferSize));
  if (msg.model) line('Model', modelName(msg.model));
  if (msg.version) line('Engine', msg.version);
}

export function modelName(m) {
  if (!m) return '';
  if (typeof m === 'string') return m;
  return m.name || m.id || '';
}

// requestStatus asks the worker for its status, shows it in #status when the
// page has one, and sets body[data-status] to ready or unavailable. The
// promise is window.dopplerStatus (e2e tests read it).
let statusSeq = 0;

export function requestStatus() {
  // Status requests start no job in the worker, so plain numbers (1 for a
  // page's first) cannot collide with the string ids of tasks.
  const p = client.request({ type: 'status', id: ++statusSeq }, ['status', 'error']).then((msg) => {
    const box = document.getElementById('status');
    if (box) showStatus(box, msg);
    document.body.dataset.status = msg.webgpu ? 'ready' : 'unavailable';
    return msg;
  });
  window.dopplerStatus = p;
  return p;
}

// The target tab -----------------------------------------------------------

// targetTab returns the tab the page acts on: ?tab=ID when given (the side
// panel opened for a tab, and tests, which open pages as tabs), else the
// active tab of the current window.
export async function targetTab() {
  const id = Number(new URLSearchParams(location.search).get('tab'));
  if (id) return chrome.tabs.get(id);
  const [tab] = await chrome.tabs.query({ active: true, currentWindow: true });
  return tab;
}

// unreadableReason returns why Chrome does not let extensions read a page
// at url, or '' when it may.
export function unreadableReason(url) {
  let u;
  try {
    u = new URL(url);
  } catch {
    return 'This tab has no page that Doppler can read.';
  }
  const store = /^(chrome\.google\.com)$/.test(u.hostname) && u.pathname.startsWith('/webstore');
  if (store || u.hostname === 'chromewebstore.google.com') {
    return 'Chrome does not let extensions read the Chrome Web Store.';
  }
  if (['chrome:', 'chrome-untrusted:', 'edge:', 'about:', 'devtools:', 'view-source:', 'chrome-search:'].includes(u.protocol)) {
    return 'Chrome does not let extensions read its own pages (such as settings, new tab or history).';
  }
  if (u.protocol === 'chrome-extension:') return 'Doppler cannot read pages of extensions.';
  if (/\.pdf$/i.test(u.pathname)) {
    return 'Doppler cannot read PDF files shown in Chrome’s PDF viewer yet. Select the text and use the right-click menu, or copy it into the side panel chat.';
  }
  if (u.protocol === 'file:') {
    return 'Doppler can read local files only when “Allow access to file URLs” is on in chrome://extensions.';
  }
  return '';
}

export class UnreadablePage extends Error {}

// readPage extracts the tab's readable text with Readability, injected on
// demand. It throws UnreadablePage with a message for the user when Chrome
// forbids reading the page.
export async function readPage(tab) {
  const reason = tab.url ? unreadableReason(tab.url) : '';
  if (reason) throw new UnreadablePage(reason);
  let results;
  try {
    results = await chrome.scripting.executeScript({
      target: { tabId: tab.id },
      files: ['vendor/Readability.js', 'content/extract.js'],
    });
  } catch (err) {
    // Without a host permission or an activeTab grant Chrome hides the
    // tab's URL: its error names the kind of page.
    const m = String(err && err.message);
    if (/extensions gallery|webstore/i.test(m)) throw new UnreadablePage(unreadableReason('https://chromewebstore.google.com/'));
    if (/chrome:\/\/|chrome-extension:\/\/|chrome-untrusted:|devtools:/i.test(m)) throw new UnreadablePage(unreadableReason('chrome://x'));
    if (/pdf/i.test(m)) throw new UnreadablePage(unreadableReason('x:/a.pdf'));
    if (/cannot be scripted|cannot access|permission/i.test(m)) {
      throw new UnreadablePage('Chrome does not let Doppler read this page. Click Doppler’s toolbar button on the page first, or select text and use the right-click menu.');
    }
    throw new UnreadablePage(`Doppler could not read this page: ${m}`);
  }
  const page = results && results[results.length - 1] && results[results.length - 1].result;
  if (!page || !page.text) throw new UnreadablePage('This page has no text to read.');
  return page;
}

// copyText puts text on the clipboard and says so in the status element.
export async function copyText(text, statusEl) {
  try {
    await navigator.clipboard.writeText(text);
    if (statusEl) statusEl.textContent = 'Copied.';
  } catch {
    // Headless or unfocused pages may refuse the async clipboard: fall back
    // to a selected textarea.
    const ta = el('textarea', { 'aria-hidden': 'true', class: 'offscreen' });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    const ok = document.execCommand('copy');
    ta.remove();
    if (statusEl) statusEl.textContent = ok ? 'Copied.' : 'Copying failed: select the text and copy it.';
  }
}

// languageOptions fills a <select> with the output languages (the first,
// '', means "the page's language").
export const LANGUAGES = [
  ['', 'The page’s language'],
  ['en', 'English'],
  ['es', 'Spanish'],
  ['fr', 'French'],
  ['de', 'German'],
  ['it', 'Italian'],
  ['pt', 'Portuguese'],
  ['nl', 'Dutch'],
  ['pl', 'Polish'],
  ['ru', 'Russian'],
  ['uk', 'Ukrainian'],
  ['tr', 'Turkish'],
  ['ar', 'Arabic'],
  ['hi', 'Hindi'],
  ['zh', 'Chinese'],
  ['ja', 'Japanese'],
  ['ko', 'Korean'],
];

export function fillLanguages(select, value) {
  select.replaceChildren(...LANGUAGES.map(([code, name]) => el('option', { value: code }, name)));
  select.value = value || '';
}
