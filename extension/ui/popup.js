// The toolbar popup: "Summarize this page". It reads the active tab (or
// ?tab=ID) with Readability, sends a summarize task over the Port and
// streams the answer as sanitized markdown. With no model installed it
// offers the first-run download; without WebGPU it says so.

import { client } from './client.js';
import {
  loadSettings, saveSettings, generationOptions, errorText, requestStatus, targetTab, readPage,
  copyText, fillLanguages, modelName, UnreadablePage,
} from './common.js';
import { listModels, download, showProgress, requestOrigins } from './models.js';
import { StreamView } from './stream.js';

const $ = (id) => document.getElementById(id);

const ui = {
  form: $('summarize-form'),
  go: $('summarize'),
  stop: $('stop'),
  copy: $('copy'),
  copyStatus: $('copy-status'),
  type: $('sum-type'),
  length: $('sum-length'),
  format: $('sum-format'),
  language: $('sum-language'),
  title: $('page-title'),
  pageError: $('page-error'),
  notice: $('notice'),
  error: $('error'),
  progress: $('progress-text'),
  stats: $('stats'),
  model: $('model-name'),
  setup: $('setup'),
};
const view = new StreamView($('output'));

let page = null; // the extracted page
let tabId = 0; // the tab it came from
let engineOK = false;
let running = null; // the running request
let lastRequest = null; // the last task request sent (tests replay it on the engine)

function setState(state) {
  document.body.dataset.state = state;
  const busy = state === 'running';
  ui.go.disabled = busy || !page || !engineOK;
  ui.stop.disabled = !busy;
  ui.copy.disabled = busy || !view.text;
}

async function init() {
  const settings = await loadSettings();
  ui.type.value = settings.summaryType;
  ui.length.value = settings.summaryLength;
  ui.format.value = settings.summaryFormat;
  fillLanguages(ui.language, settings.outputLanguage);
  for (const [sel, key] of [[ui.type, 'summaryType'], [ui.length, 'summaryLength'], [ui.format, 'summaryFormat'], [ui.language, 'outputLanguage']]) {
    sel.addEventListener('change', () => saveSettings({ [key]: sel.value }));
  }

  const [status] = await Promise.all([requestStatus(), loadPage()]);
  applyStatus(status);
  setState('idle');
  window.dopplerReady = true;
  if (engineOK) await resume();
}

function applyStatus(status) {
  if (status.type === 'error') {
    ui.error.textContent = errorText(status);
    return;
  }
  if (!status.webgpu) {
    engineOK = false;
    ui.error.textContent = errorText({ code: status.code || 'no-webgpu', message: status.reason });
    document.body.dataset.problem = 'no-webgpu';
    return;
  }
  engineOK = true;
  if (status.model) {
    ui.model.textContent = modelName(status.model);
    return;
  }
  // No model loaded yet: show the one that will run (the default, else the
  // engine's pick, the first ready one), or offer one when none is installed.
  Promise.all([listModels(), loadSettings()])
    .then(([{ installed }, settings]) => {
      const ready = installed.filter((m) => m.ready);
      if (!ready.length) return showSetup();
      const m = ready.find((r) => r.id === settings.defaultModel) || ready[0];
      if (!ui.model.textContent) ui.model.textContent = m.id;
    })
    .catch(() => {});
}

async function loadPage() {
  try {
    const tab = await targetTab();
    if (!tab) throw new UnreadablePage('There is no tab to read.');
    tabId = tab.id;
    page = await readPage(tab);
    ui.title.textContent = page.title || tab.title || page.url;
  } catch (err) {
    page = null;
    ui.title.textContent = 'This page can’t be summarized';
    ui.pageError.textContent = err instanceof UnreadablePage ? err.message : `Doppler could not read this page: ${err.message}`;
    document.body.dataset.problem = 'unreadable';
  }
}

async function summarize() {
  if (!page || running || document.body.dataset.state === 'running') return;
  setState('running');
  const settings = await loadSettings();
  ui.notice.textContent = '';
  ui.error.textContent = '';
  ui.progress.textContent = '';
  ui.stats.textContent = '';
  ui.copyStatus.textContent = '';
  const format = ui.format.value;
  view.start(format);
  setState('running');
  const options = {
    ...generationOptions(settings),
    type: ui.type.value,
    length: ui.length.value,
    format,
  };
  if (ui.language.value) options.language = ui.language.value;
  const request = {
    type: 'task',
    task: 'summarize',
    input: { text: page.text, title: page.title, url: page.url, lang: page.language },
    options,
  };
  lastRequest = request;
  running = client.stream(request, streamHandlers());
  remember(running.id, format);
  finish(await running.done);
}

// streamHandlers are the reactions to a summary's stream (new or attached).
function streamHandlers() {
  return {
    token: (m) => {
      if (ui.progress.textContent.startsWith('Waiting')) ui.progress.textContent = '';
      view.append(m.text || '');
    },
    note: (m) => showNote(m.text || m.note),
    progress: (m) => showTaskProgress(m),
    queued: (m) => {
      if (m.position > 0) ui.progress.textContent = `Waiting for ${m.position} other request${m.position > 1 ? 's' : ''} to finish…`;
    },
    status: (m) => {
      if (m.model) ui.model.textContent = modelName(m.model);
      if (m.note) showNote(m.note);
    },
  };
}

// finish shows how a summary's stream ended.
function finish(end) {
  running = null;
  view.finish();
  ui.progress.textContent = '';
  if (end.type === 'done') {
    if (end.note) showNote(end.note);
    if (end.stats && end.stats.model) ui.model.textContent = end.stats.model;
    ui.stats.textContent = statsText(end.stats);
    setState('done');
  } else {
    ui.error.textContent = errorText(end);
    if (end.code === 'no-model') showSetup();
    document.body.dataset.errorCode = end.code;
    setState(end.code === 'cancelled' ? 'cancelled' : 'error');
  }
}

// The popup closes whenever the user clicks elsewhere, but the worker
// finishes the summary anyway: the popup remembers its last request per tab
// (chrome.storage.session) and shows it again, still streaming or done,
// when reopened on the same page within RESUME_MS.
const RESUME_MS = 30 * 60 * 1000;

function rememberKey() {
  return `popup:${tabId}`;
}

function remember(id, format) {
  if (!tabId) return;
  chrome.storage.session.set({ [rememberKey()]: { id, format, url: page && page.url, at: Date.now() } }).catch(() => {});
}

async function resume() {
  if (!tabId || !page) return;
  const key = rememberKey();
  const saved = (await chrome.storage.session.get(key))[key];
  if (!saved || saved.url !== page.url || Date.now() - saved.at > RESUME_MS) return;
  ui.format.value = saved.format;
  view.start(saved.format);
  setState('running');
  running = client.attach(saved.id, {
    ...streamHandlers(),
    result: (r) => {
      if (r.text) view.append(r.text);
      if (r.note) showNote(r.note);
    },
  });
  const end = await running.done;
  if (end.type === 'unknown') {
    running = null;
    view.finish();
    setState('idle');
    return;
  }
  if (end.type === 'error' && end.text) view.append(end.text);
  finish(end);
}

function showNote(text) {
  if (!text) return;
  if (!ui.notice.textContent.includes(text)) ui.notice.textContent = (ui.notice.textContent + ' ' + text).trim();
}

function showTaskProgress(m) {
  const parts = m.parts || (m.phase === 'parts' ? { done: m.done ?? m.bytes, total: m.total } : null);
  if (parts) {
    ui.progress.textContent = `Summarized ${parts.done || 0} of ${parts.total} parts of the page…`;
  } else if (m.phase) {
    ui.progress.textContent = m.phase === 'loading' ? 'Loading the model…' : `${m.phase}…`;
  }
}

export function statsText(stats) {
  if (!stats) return '';
  const parts = [];
  if (stats.model) parts.push(stats.model);
  if (stats.tokens) parts.push(`${stats.tokens} tokens`);
  const rate = stats.tokPerS;
  if (rate) parts.push(`${Number(rate).toFixed(1)} tokens/s`);
  if (stats.chunks > 1) parts.push(`${stats.chunks} parts`);
  return parts.join(' · ');
}

// First run: no model installed.
async function showSetup() {
  if (!ui.setup.hidden) return;
  ui.setup.hidden = false;
  document.body.dataset.problem = 'no-model';
  const select = $('setup-model');
  const button = $('setup-download');
  const urls = new Map(); // catalog id -> file URL
  try {
    const { catalog } = await listModels();
    select.replaceChildren(
      ...catalog.map((m) => {
        urls.set(m.id, m.url);
        const o = document.createElement('option');
        o.value = m.id;
        o.textContent = `${m.name} (${Math.round((m.bytes || 0) / 1e6)} MB)`;
        return o;
      }),
    );
  } catch (err) {
    $('setup-progress-text').textContent = errorText(err.reply || { code: 'internal', message: err.message });
  }
  button.disabled = !select.options.length;
  button.onclick = async () => {
    const allowed = requestOrigins(urls.get(select.value) || '');
    button.disabled = true;
    await allowed;
    $('setup-progress-label').hidden = false;
    const bar = $('setup-progress');
    const end = await download({ catalogId: select.value }, (p) => showProgress(bar, $('setup-progress-text'), p));
    if (end.type === 'done') {
      $('setup-progress-text').textContent = 'The model is ready.';
      ui.setup.hidden = true;
      delete document.body.dataset.problem;
      applyStatus(await requestStatus());
      setState('idle');
    } else {
      $('setup-progress-text').textContent = errorText(end);
      button.disabled = false;
    }
  };
}

ui.form.addEventListener('submit', (e) => {
  e.preventDefault();
  summarize();
});
ui.stop.addEventListener('click', () => running && running.cancel());
ui.copy.addEventListener('click', () => copyText(view.text, ui.copyStatus));
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && running) {
    e.preventDefault();
    running.cancel();
  }
});

window.dopplerPopup = { summarize, view, get page() { return page; }, get lastRequest() { return lastRequest; } };
init();
