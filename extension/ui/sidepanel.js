// The side panel: the results of right-click actions on selected text
// (summarize, rewrite; with copy and "replace selection") and a multi-turn
// chat with the model, optionally about the page.
//
// The chat history is kept per window in chrome.storage.session (in
// memory, gone when the browser closes) under "chat:<windowId>".

import { client } from './client.js';
import {
  loadSettings, generationOptions, errorText, requestStatus, targetTab, readPage, copyText, modelName,
  UnreadablePage, el,
} from './common.js';
import { StreamView } from './stream.js';
import { renderMarkdown } from './markdown.js';
import { readSelection, replaceSelection } from '../content/selection.js';

const $ = (id) => document.getElementById(id);
const PENDING_KEY = 'pendingAction';
// A pending action older than this was not meant for a panel opening now.
const PENDING_MAX_AGE_MS = 5 * 60 * 1000;

let tabParam = Number(new URLSearchParams(location.search).get('tab')) || 0;
let windowId = null;

// Right-click actions ------------------------------------------------------

const act = {
  box: $('action'),
  title: $('action-title'),
  source: $('action-source'),
  notice: $('action-notice'),
  error: $('action-error'),
  stop: $('action-stop'),
  copy: $('action-copy'),
  replace: $('action-replace'),
  close: $('action-close'),
  status: $('action-status'),
  view: new StreamView($('action-output')),
  running: null,
  current: null, // {action, original}
};

function setActionState(state) {
  act.box.dataset.state = state;
  const busy = state === 'running';
  act.stop.disabled = !busy;
  act.copy.disabled = busy || !act.view.text;
  act.replace.disabled = busy || !act.view.text || state !== 'done';
}

// runAction runs a request left by the context menu (worker/menus.js).
async function runAction(action) {
  if (act.running) act.running.cancel();
  const settings = await loadSettings();
  act.box.hidden = false;
  setActionState('running');
  act.title.textContent = action.label;
  act.notice.textContent = '';
  act.error.textContent = '';
  act.status.textContent = '';
  act.replace.hidden = true;
  if (noWebGPU) {
    act.source.textContent = action.text || '';
    act.error.textContent = errorText({ code: 'no-webgpu' });
    setActionState('error');
    return;
  }

  let text = action.text || '';
  let editable = !!action.editable;
  let page = null;
  if (action.page) {
    try {
      page = await readPage(await chrome.tabs.get(action.tabId));
      text = page.text;
    } catch (err) {
      act.error.textContent = err instanceof UnreadablePage ? err.message : String(err.message);
      setActionState('error');
      return;
    }
  } else if (action.tabId) {
    // Chrome's selectionText collapses whitespace: prefer the selection as
    // it is in the page when it is still the same text.
    const live = await inTab(action, readSelection, []);
    if (live && live.text && squash(live.text) === squash(text)) {
      text = live.text;
      editable = editable || live.editable;
    }
  }
  act.source.textContent = action.page ? `${page.title}\n\n${text.slice(0, 2000)}${text.length > 2000 ? '…' : ''}` : text;
  act.current = { action, original: text, editable };

  const format = action.task === 'summarize' ? settings.summaryFormat : 'plain-text';
  act.view.start(format === 'markdown' ? 'markdown' : 'plain-text');
  setActionState('running');
  const options = { ...generationOptions(settings), ...(action.options || {}) };
  if (settings.outputLanguage) options.language = settings.outputLanguage;
  let input;
  if (action.task === 'summarize') {
    Object.assign(options, { type: settings.summaryType, length: settings.summaryLength, format: settings.summaryFormat });
    input = { text, title: page ? page.title : '', url: action.pageUrl, lang: page ? page.language : '' };
  } else {
    // Rewrites keep the selection's own format (no markdown added).
    input = { text, url: action.pageUrl };
  }
  act.lastRequest = { type: 'task', task: action.task, input, options };
  act.running = client.stream(
    act.lastRequest,
    {
      token: (m) => act.view.append(m.text || ''),
      note: (m) => addNote(act.notice, m.text || m.note),
      progress: (m) => {
        if (m.parts) act.status.textContent = `Summarized ${m.parts.done} of ${m.parts.total} parts…`;
      },
    },
  );
  const end = await act.running.done;
  act.running = null;
  act.view.finish();
  act.status.textContent = '';
  if (end.type === 'done') {
    if (end.note) addNote(act.notice, end.note);
    if (end.stats && end.stats.model) $('model-name').textContent = end.stats.model;
    act.replace.hidden = !(action.task === 'rewrite' && editable);
    setActionState('done');
  } else {
    act.error.textContent = errorText(end);
    act.box.dataset.errorCode = end.code;
    setActionState(end.code === 'cancelled' ? 'cancelled' : 'error');
  }
}

function squash(s) {
  return String(s).replace(/\s+/g, ' ').trim();
}

function addNote(box, text) {
  if (text && !box.textContent.includes(text)) box.textContent = (box.textContent + ' ' + text).trim();
}

// inTab runs func(args) in the action's frame; null when it cannot.
async function inTab(action, func, args) {
  try {
    const [res] = await chrome.scripting.executeScript({
      target: { tabId: action.tabId, frameIds: [action.frameId || 0] },
      func,
      args,
    });
    return res ? res.result : null;
  } catch {
    return null;
  }
}

act.stop.addEventListener('click', () => act.running && act.running.cancel());
act.copy.addEventListener('click', () => copyText(act.view.text, act.status));
act.close.addEventListener('click', () => {
  if (act.running) act.running.cancel();
  act.box.hidden = true;
  $('chat-input').focus();
});
act.replace.addEventListener('click', async () => {
  const cur = act.current;
  if (!cur) return;
  const res = await inTab(cur.action, replaceSelection, [cur.original, act.view.text]);
  if (res && res.ok) {
    act.status.textContent = 'Replaced the selection.';
    act.replace.disabled = true;
    act.box.dataset.replaced = 'true';
  } else {
    act.status.textContent = (res && res.reason) || 'Doppler could not reach the page to replace the selection.';
  }
});

// takePending runs the pending action when it is for this panel.
async function takePending(action) {
  if (!action || Date.now() - action.at > PENDING_MAX_AGE_MS) return;
  if (tabParam ? action.tabId !== tabParam : action.windowId !== windowId) return;
  await chrome.storage.session.remove(PENDING_KEY);
  runAction(action);
}

chrome.storage.onChanged.addListener((changes, area) => {
  if (area === 'session' && changes[PENDING_KEY] && changes[PENDING_KEY].newValue) takePending(changes[PENDING_KEY].newValue);
});

// Chat -----------------------------------------------------------------------

const chat = {
  log: $('chat-log'),
  form: $('chat-form'),
  input: $('chat-input'),
  send: $('chat-send'),
  stop: $('chat-stop'),
  regenerate: $('chat-regenerate'),
  clear: $('chat-clear'),
  usePage: $('use-page'),
  status: $('chat-status'),
  error: $('chat-error'),
  // {role: 'user'|'assistant'|'note', content, stopped?}
  messages: [],
  running: null,
};

function storageKey() {
  return `chat:${windowId ?? 'none'}`;
}

async function loadChat() {
  const key = storageKey();
  const got = await chrome.storage.session.get(key);
  const saved = got[key] || {};
  chat.messages = Array.isArray(saved.messages) ? saved.messages : [];
  chat.usePage.checked = !!saved.usePage;
  renderChat();
}

function saveChat() {
  return chrome.storage.session.set({ [storageKey()]: { messages: chat.messages, usePage: chat.usePage.checked } });
}

function messageItem(m) {
  const li = el('li', { class: `msg ${m.role}` });
  if (m.role === 'note') {
    li.textContent = m.content;
    return li;
  }
  li.append(el('span', { class: 'who' }, m.role === 'user' ? 'You' : 'Doppler'));
  const body = el('div', { class: 'body' });
  if (m.role === 'user') body.textContent = m.content;
  else renderMarkdown(body, m.content);
  li.append(body);
  if (m.stopped) li.append(el('span', { class: 'who' }, '(stopped)'));
  return li;
}

function renderChat() {
  chat.log.replaceChildren(...chat.messages.map(messageItem));
  setChatState(document.body.dataset.chat || 'idle');
}

let noWebGPU = false;

function setChatState(state) {
  document.body.dataset.chat = state;
  const busy = state === 'running';
  chat.send.disabled = busy || noWebGPU;
  chat.stop.disabled = !busy;
  chat.regenerate.disabled = busy || !chat.messages.some((m) => m.role === 'user');
  chat.clear.disabled = busy;
}

// turns are the messages the engine sees: user and assistant, in order.
function turns() {
  return chat.messages.filter((m) => m.role === 'user' || m.role === 'assistant').map(({ role, content }) => ({ role, content }));
}

async function ask() {
  setChatState('running');
  chat.error.textContent = '';
  const settings = await loadSettings();
  const options = generationOptions(settings);
  if (settings.outputLanguage) options.language = settings.outputLanguage;
  const input = { messages: turns() };
  if (chat.usePage.checked) {
    try {
      const p = await readPage(await targetTab());
      input.page = { title: p.title, url: p.url, text: p.text, language: p.language };
    } catch (err) {
      chat.messages.push({ role: 'note', content: `Not using the page: ${err.message}` });
    }
  }
  const li = el('li', { class: 'msg assistant' }, el('span', { class: 'who' }, 'Doppler'));
  const body = el('div', { class: 'body', 'aria-busy': 'true' });
  li.append(body);
  renderChat();
  chat.log.append(li);
  const view = new StreamView(body);
  view.start('markdown');
  setChatState('running');
  chat.status.textContent = 'Answering…';
  chat.lastRequest = { type: 'task', task: 'chat', input, options };
  chat.running = client.stream(
    chat.lastRequest,
    {
      token: (m) => view.append(m.text || ''),
      note: (m) => {
        const text = m.text || m.note;
        if (text) chat.log.insertBefore(el('li', { class: 'msg note' }, text), li);
      },
    },
  );
  const end = await chat.running.done;
  chat.running = null;
  view.finish();
  chat.status.textContent = '';
  if (end.type === 'done') {
    // A note (turns dropped, page shortened) goes before the answer it
    // concerns, where it was shown while streaming.
    if (end.note) chat.messages.push({ role: 'note', content: end.note });
    chat.messages.push({ role: 'assistant', content: view.text });
    if (end.stats && end.stats.model) $('model-name').textContent = end.stats.model;
  } else {
    if (view.text) chat.messages.push({ role: 'assistant', content: view.text, stopped: true });
    if (end.code !== 'cancelled') chat.error.textContent = errorText(end);
    else chat.status.textContent = 'Stopped.';
    document.body.dataset.chatError = end.code;
  }
  await saveChat();
  renderChat();
  setChatState(end.type === 'done' ? 'done' : end.code === 'cancelled' ? 'cancelled' : 'error');
}

chat.form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const text = chat.input.value.trim();
  if (!text || chat.running || document.body.dataset.chat === 'running') return;
  setChatState('running');
  chat.input.value = '';
  chat.messages.push({ role: 'user', content: text });
  await saveChat();
  ask();
});
chat.input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    chat.form.requestSubmit();
  }
});
chat.stop.addEventListener('click', () => chat.running && chat.running.cancel());
chat.regenerate.addEventListener('click', async () => {
  if (chat.running || document.body.dataset.chat === 'running') return;
  // Drop everything after the last user message (its answer and notes).
  const last = chat.messages.map((m) => m.role).lastIndexOf('user');
  if (last < 0) return;
  chat.messages.length = last + 1;
  await saveChat();
  ask();
});
chat.clear.addEventListener('click', async () => {
  if (chat.running) return;
  chat.messages = [];
  chat.error.textContent = '';
  await saveChat();
  renderChat();
  chat.status.textContent = 'Conversation cleared.';
  chat.input.focus();
});
chat.usePage.addEventListener('change', saveChat);
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') {
    if (chat.running) chat.running.cancel();
    if (act.running) act.running.cancel();
  }
});

// Start ------------------------------------------------------------------------

async function init() {
  if (tabParam) {
    windowId = (await chrome.tabs.get(tabParam)).windowId;
  } else {
    windowId = (await chrome.windows.getCurrent()).id;
  }
  await loadChat();
  await requestStatus().then((st) => {
    if (st.type === 'status' && !st.webgpu) {
      $('engine-error').textContent = errorText({ code: st.code || 'no-webgpu', message: st.reason });
      document.body.dataset.problem = 'no-webgpu';
      noWebGPU = true;
      setChatState('idle');
    } else if (st.model) {
      $('model-name').textContent = modelName(st.model);
    }
  });
  const got = await chrome.storage.session.get(PENDING_KEY);
  await takePending(got[PENDING_KEY]);
  window.dopplerReady = true;
}

window.dopplerPanel = { chat, act, runAction, get windowId() { return windowId; } };
init();
