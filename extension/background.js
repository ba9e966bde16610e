// Doppler's service worker (classic, so importScripts works). It runs the
// Go engine (engine.wasm, built from engine/cmd/doppler-sw) and answers the
// UI over chrome.runtime Ports named "doppler". The message protocol is
// specified in protocol.md (next to this file); DESIGN.md has its outline.
//
// Listeners are registered synchronously at top level, as MV3 requires for a
// worker woken by an event; the wasm is instantiated asynchronously, once,
// and each request awaits it.
//
// Lifetime. Chrome stops an extension service worker after 30 s without
// events or extension API calls; "receiving an event or calling an extension
// API resets this timer" (developer.chrome.com/docs/extensions/develop/
// concepts/service-workers/lifecycle, Chrome 110+). So while a task or
// download runs or waits, while a side panel is connected, and for warmMs
// after the last request (the loaded model stays in GPU memory that long),
// the worker calls chrome.runtime.getPlatformInfo() every keepAliveMs
// (tuning: 20 s, 5 min). After warmMs idle it unloads the model and lets
// itself be stopped: a later request loads it again (the cold cost is the
// load time in the done message's stats.loadMs).
//
// Results. Every task, download and import is a job keyed by its request
// id, kept in memory and in chrome.storage.session (which outlives the
// worker but not the browser), so a popup closed mid-task can reopen and
// {type:"attach", id} to see the answer. Jobs that were running or queued
// when the worker was killed are marked failed with code worker-restarted;
// a connecting UI is told of them.
importScripts('wasm_exec.js');
// The engine's one-call step replay (engine/runtime/replay.js, copied by
// `make build`): without it every dispatch costs the runtime ~3 JS calls.
importScripts('replay.js');
// The right-click menu and the side panel shortcut (the UI's file).
importScripts('worker/menus.js');

const PORT_NAME = 'doppler';
// Lifetime timings; a test may shorten them.
const tuning = { keepAliveMs: 20 * 1000, warmMs: 5 * 60 * 1000 };
const MAX_KEPT_JOBS = 20;
const PERSIST_TEXT_MS = 1000;
const CODES = new Set(['no-webgpu', 'no-model', 'too-big-for-gpu', 'context-overflow', 'quota', 'network',
  'corrupt-model', 'cancelled', 'worker-restarted', 'internal', 'invalid-model']);
const TASKS = new Set(['summarize', 'rewrite', 'chat']);

let enginePromise = null;

// startEngine instantiates engine.wasm once per worker lifetime and resolves
// with the engine's API (globalThis.dopplerEngine). A failed or exited
// engine is started again on the next request.
function startEngine() {
  if (enginePromise) return enginePromise;
  enginePromise = new Promise((resolve, reject) => {
    self.__dopplerOnReady = resolve;
    const go = new Go();
    let exitCode;
    go.exit = (code) => {
      exitCode = code;
    };
    WebAssembly.instantiateStreaming(fetch('engine.wasm'), go.importObject)
      .then(({ instance }) => go.run(instance))
      .then(() => {
        enginePromise = null;
        reject(new Error(`engine exited with code ${exitCode}`));
      })
      .catch((err) => {
        enginePromise = null;
        reject(err);
      });
  });
  return enginePromise;
}

// codeOf maps an engine rejection (a JS Error named with the protocol code)
// to a stable code.
function codeOf(err) {
  return err && CODES.has(err.name) ? err.name : 'internal';
}

function errorMsg(id, err) {
  return { type: 'error', id, code: codeOf(err), message: (err && err.message) || String(err) };
}

// ---- status ----

// status builds the reply to {type:"status"}.
async function status() {
  let engine;
  try {
    engine = await startEngine();
  } catch (err) {
    return { type: 'status', webgpu: null, code: 'internal', reason: `The engine failed to start: ${err.message}` };
  }
  try {
    const st = await engine.status();
    const model = await engine.loaded();
    return {
      type: 'status', ...st, model: model || null,
      busy: running ? running.id : null, queued: queue.map((j) => j.id),
    };
  } catch (err) {
    return { type: 'status', webgpu: null, code: 'internal', reason: `The engine failed: ${err.message}` };
  }
}

// ---- ports ----

const ports = new Set();

// trusted accepts only this extension's own pages and content scripts: no
// externally_connectable in the manifest means other extensions and web
// pages cannot reach onConnect at all; this check is the second wall.
function trusted(port) {
  const s = port.sender || {};
  if (s.id !== chrome.runtime.id) return false;
  const own = `chrome-extension://${chrome.runtime.id}/`;
  if (typeof s.url === 'string' && s.url.startsWith(own)) return true;
  // A content script: sender.id is ours, its URL and origin are the page's.
  return Boolean(s.tab) && typeof s.frameId === 'number';
}

function isSidePanel(port) {
  const url = (port.sender && port.sender.url) || '';
  return url.startsWith(`chrome-extension://${chrome.runtime.id}/sidepanel.html`);
}

function send(port, msg) {
  try {
    port.postMessage(msg);
    return true;
  } catch (err) {
    ports.delete(port);
    return false; // the page went away
  }
}

function broadcast(msg) {
  for (const p of ports) send(p, msg);
}

// ---- jobs ----

// A job: {id, kind: 'task'|'bench'|'download'|'import', task?, state:
// 'queued'|'running'|'done'|'error', text, note?, stop?, stats?, bench?,
// model?, code?, message?, progress?, started, finished?}. subscribers (Ports) get
// its live messages.
const jobs = new Map();
const subscribers = new Map(); // id → Set<Port>
const queue = []; // task and bench jobs waiting to run
let running = null; // the task or bench job running now
let activeJobs = 0; // downloads and imports running

function snapshot(job) {
  const { request, ...rest } = job;
  return rest;
}

const persistTimers = new Map();

// persist saves a job to chrome.storage.session; while text streams it is
// saved at most every PERSIST_TEXT_MS.
function persist(job, soon) {
  const key = `job:${job.id}`;
  if (soon) {
    if (persistTimers.has(key)) return;
    persistTimers.set(key, setTimeout(() => {
      persistTimers.delete(key);
      chrome.storage.session.set({ [key]: snapshot(job) }).catch(() => {});
    }, PERSIST_TEXT_MS));
    return;
  }
  clearTimeout(persistTimers.get(key));
  persistTimers.delete(key);
  chrome.storage.session.set({ [key]: snapshot(job) }).catch(() => {});
  trimJobs();
}

// trimJobs forgets the oldest finished jobs beyond MAX_KEPT_JOBS.
function trimJobs() {
  const finished = [...jobs.values()].filter((j) => j.state === 'done' || j.state === 'error')
    .sort((a, b) => a.started - b.started);
  while (finished.length > MAX_KEPT_JOBS) {
    const old = finished.shift();
    jobs.delete(old.id);
    subscribers.delete(old.id);
    chrome.storage.session.remove(`job:${old.id}`).catch(() => {});
  }
}

// restored loads the jobs of earlier lives of this worker. Those that were
// running or queued were cut off by the restart.
const restored = (async () => {
  let items = {};
  try {
    items = await chrome.storage.session.get(null);
  } catch (err) {
    console.error('doppler: reading chrome.storage.session:', err);
  }
  const interrupted = [];
  for (const [key, job] of Object.entries(items)) {
    if (!key.startsWith('job:') || !job || jobs.has(job.id)) continue;
    if (job.state === 'queued' || job.state === 'running') {
      job.state = 'error';
      job.code = 'worker-restarted';
      job.message = 'The engine was restarted by the browser before this finished: try again.';
      job.finished = Date.now();
      job.interrupted = true;
      interrupted.push(job);
    }
    jobs.set(job.id, job);
  }
  for (const job of interrupted) persist(job);
  return interrupted;
})();

function newJob(id, kind, extra) {
  const job = { id, kind, state: 'queued', text: '', started: Date.now(), ...extra };
  jobs.set(id, job);
  return job;
}

function subscribe(id, port) {
  if (!subscribers.has(id)) subscribers.set(id, new Set());
  subscribers.get(id).add(port);
}

function emit(job, msg) {
  const subs = subscribers.get(job.id);
  if (!subs) return;
  for (const p of subs) {
    if (!send(p, msg)) subs.delete(p);
  }
}

function finish(job, fields) {
  Object.assign(job, fields, { finished: Date.now() });
  persist(job);
  keepAlive();
}

// resultMsg is the reply to attach: everything the job produced so far.
function resultMsg(job) {
  const msg = { type: 'result', ...snapshot(job) };
  if (job.state === 'queued') msg.position = queue.indexOf(job) + 1;
  return msg;
}

// ---- the task queue: one generation at a time ----

async function pump() {
  if (running || queue.length === 0) return;
  const job = queue.shift();
  running = job;
  const rid = job.requestId; // replies carry the id as the UI sent it
  job.state = 'running';
  persist(job);
  queue.forEach((j, i) => emit(j, { type: 'queued', id: j.requestId, position: i + 1 }));
  keepAlive();
  try {
    const engine = await startEngine();
    if (job.kind === 'bench') {
      const bench = await engine.bench(job.request);
      finish(job, { state: 'done', stop: 'complete', model: bench.model, bench });
      emit(job, { type: 'done', id: rid, stop: 'complete', bench });
      return;
    }
    const res = await engine.task(job.request,
      (text) => {
        job.text += text;
        emit(job, { type: 'token', id: rid, text });
        persist(job, true);
      },
      (ev) => {
        if (ev.note) {
          job.note = ev.note;
          emit(job, { type: 'note', id: rid, note: ev.note });
        }
        if (ev.parts) emit(job, { type: 'progress', id: rid, phase: 'parts', bytes: ev.parts.done, total: ev.parts.total, rate: 0 });
      });
    finish(job, { state: 'done', text: res.text, stop: res.stop, stats: res.stats, note: res.note });
    emit(job, { type: 'done', id: rid, stop: res.stop, stats: res.stats, text: res.text, note: res.note });
  } catch (err) {
    const e = errorMsg(rid, err);
    finish(job, { state: 'error', code: e.code, message: e.message });
    emit(job, e);
  } finally {
    running = null;
    lastRequest = Date.now();
    keepAlive();
    pump();
  }
}

function startTask(port, msg) {
  if (!TASKS.has(msg.task)) {
    return send(port, { type: 'error', id: msg.id, code: 'internal', message: `Unknown task ${JSON.stringify(msg.task)} (summarize, rewrite or chat).` });
  }
  enqueue(port, msg, 'task', { task: msg.task },
    { id: String(msg.id), task: msg.task, input: msg.input || {}, options: msg.options || {} });
}

// startBench queues a benchmark of a stored model (protocol.md's bench):
// it measures what `doppler bench` does, on this browser's GPU.
function startBench(port, msg) {
  enqueue(port, msg, 'bench', {}, {
    id: String(msg.id), model: msg.modelId, promptTokens: msg.promptTokens, genTokens: msg.genTokens,
    stepsPerSubmit: msg.stepsPerSubmit, context: msg.context, precision: msg.precision,
  });
}

// enqueue adds a job of the generation queue (a task or a bench) that
// runs request.
function enqueue(port, msg, kind, fields, request) {
  const id = msg.id;
  if (id === undefined || id === null || id === '') {
    return send(port, { type: 'error', code: 'internal', message: `A ${kind} needs an id.` });
  }
  const old = jobs.get(String(id));
  if (old && (old.state === 'queued' || old.state === 'running')) {
    return send(port, { type: 'error', id, code: 'internal', message: `Request id ${id} is already in use.` });
  }
  const job = newJob(String(id), kind, { ...fields, requestId: id });
  job.request = request;
  subscribe(job.id, port);
  queue.push(job);
  persist(job);
  send(port, { type: 'queued', id, position: queue.length + (running ? 1 : 0) - 1 });
  pump();
}

// ---- downloads and imports (outside the generation queue) ----

// runStoreJob runs a download or import as job msg.id. hint, when set, is
// added to a network error's message (a missing host permission).
async function runStoreJob(port, msg, kind, call, hint) {
  const id = String(msg.id);
  const old = jobs.get(id);
  if (old && (old.state === 'queued' || old.state === 'running')) {
    return send(port, { type: 'error', id: msg.id, code: 'internal', message: `Request id ${msg.id} is already in use.` });
  }
  const job = newJob(id, kind, { state: 'running', requestId: msg.id });
  subscribe(id, port);
  persist(job);
  activeJobs++;
  keepAlive();
  let lastSaved = 0;
  try {
    const engine = await startEngine();
    const model = await call(engine, (p) => {
      job.progress = p;
      job.model = p.modelId;
      emit(job, { type: 'progress', id: msg.id, modelId: p.modelId, phase: p.phase, bytes: p.bytes, total: p.total, rate: p.rate, eta: p.eta });
      if (Date.now() - lastSaved > PERSIST_TEXT_MS) {
        lastSaved = Date.now();
        persist(job);
      }
    });
    finish(job, { state: 'done', model: model.id, stop: 'complete', stats: model });
    emit(job, { type: 'done', id: msg.id, stop: 'complete', model, stats: { bytes: model.bytes, sourceBytes: model.sourceBytes } });
  } catch (err) {
    const e = errorMsg(msg.id, err);
    if (hint && e.code === 'network') e.message += ` ${hint}`;
    finish(job, { state: 'error', code: e.code, message: e.message });
    emit(job, e);
  } finally {
    activeJobs--;
    lastRequest = Date.now();
    keepAlive();
    broadcastModels();
  }
}

async function modelsMsg(id) {
  const engine = await startEngine();
  const m = await engine.models();
  return { type: 'models', id, models: m.models, usage: m.usage, catalog: m.catalog };
}

async function broadcastModels() {
  try {
    broadcast(await modelsMsg(undefined));
  } catch (err) {
    console.error('doppler: listing models:', err);
  }
}

// permissionHint says which host permission a download from url may lack.
// Without it the worker's fetch is subject to CORS (optional_host_permissions
// in the manifest: the options page requests the origin on the user's
// click); servers that allow CORS work either way.
async function permissionHint(url) {
  if (!url) return null;
  let origin;
  try {
    origin = new URL(url).origin;
  } catch (err) {
    return null;
  }
  const granted = await chrome.permissions.contains({ origins: [`${origin}/*`] }).catch(() => true);
  return granted ? null : `Doppler may need your permission to download from ${origin}: allow it when asked and try again.`;
}

// ---- keep-alive and warm model ----

let lastRequest = 0;
let keepAliveTimer = null;
let sidePanels = 0;

function busy() {
  return Boolean(running) || queue.length > 0 || activeJobs > 0;
}

// keepAlive (re)arms the heartbeat while there is a reason to live, and
// unloads the model once tuning.warmMs passed since the last request.
function keepAlive() {
  if (keepAliveTimer) return;
  const tick = async () => {
    keepAliveTimer = null;
    const warm = Date.now() - lastRequest < tuning.warmMs;
    if (!busy() && !warm && enginePromise) {
      try {
        const engine = await enginePromise;
        if (!busy()) await engine.unload();
      } catch (err) {
        // nothing loaded, or the engine is gone: either way nothing to free
      }
    }
    if (busy() || warm || sidePanels > 0) {
      chrome.runtime.getPlatformInfo().catch(() => {}); // resets the 30 s idle timer
      keepAliveTimer = setTimeout(tick, tuning.keepAliveMs);
    }
  };
  keepAliveTimer = setTimeout(tick, tuning.keepAliveMs);
}

// ---- messages ----

async function handle(port, msg) {
  const id = msg && msg.id;
  const type = msg && msg.type;
  try {
    switch (type) {
      case 'status':
        return send(port, { ...(await status()), id });
      case 'task':
        await restored;
        lastRequest = Date.now();
        return startTask(port, msg);
      case 'bench':
        await restored;
        lastRequest = Date.now();
        return startBench(port, msg);
      case 'cancel': {
        const job = jobs.get(String(id));
        if (!job) return send(port, { type: 'error', id, code: 'internal', message: `No request ${id} to cancel.` });
        const qi = queue.indexOf(job);
        if (qi >= 0) {
          queue.splice(qi, 1);
          const e = { type: 'error', id: job.requestId, code: 'cancelled', message: 'Cancelled.' };
          finish(job, { state: 'error', code: 'cancelled', message: e.message });
          emit(job, e);
          subscribe(job.id, port);
          return send(port, e);
        }
        if (job.state === 'running') {
          subscribe(job.id, port);
          (await startEngine()).cancel(String(id)); // the job's promise rejects with code cancelled
        }
        return;
      }
      case 'attach': {
        await restored;
        const job = jobs.get(String(id));
        if (!job) return send(port, { type: 'result', id, state: 'unknown' });
        subscribe(job.id, port);
        if (job.state === 'error') return send(port, { type: 'error', id, code: job.code, message: job.message, text: job.text });
        return send(port, { ...resultMsg(job), id });
      }
      case 'jobs': {
        await restored;
        const list = [...jobs.values()].sort((a, b) => b.started - a.started).map((j) => ({
          id: j.requestId !== undefined ? j.requestId : j.id, kind: j.kind, task: j.task, state: j.state,
          code: j.code, model: j.model, started: j.started, finished: j.finished,
        }));
        return send(port, { type: 'jobs', id, jobs: list });
      }
      case 'models':
        return send(port, await modelsMsg(id));
      case 'download': {
        await restored;
        lastRequest = Date.now();
        return runStoreJob(port, msg, 'download', (engine, onProgress) =>
          engine.download({ id: String(id), url: msg.url, catalogId: msg.catalogId, modelId: msg.modelId, name: msg.name, sha256: msg.sha256 }, onProgress),
        await permissionHint(msg.url));
      }
      case 'import':
        await restored;
        lastRequest = Date.now();
        return runStoreJob(port, msg, 'import', (engine, onProgress) =>
          engine.importStaged({ id: String(id), path: msg.path, name: msg.name }, onProgress));
      case 'delete': {
        const engine = await startEngine();
        await engine.delete(String(msg.modelId));
        send(port, await modelsMsg(id));
        return broadcastModels();
      }
      default:
        return send(port, { type: 'error', id, code: 'internal', message: `Unknown message type ${JSON.stringify(type)}.` });
    }
  } catch (err) {
    return send(port, errorMsg(id, err));
  }
}

chrome.runtime.onConnect.addListener((port) => {
  if (port.name !== PORT_NAME) return;
  if (!trusted(port)) {
    console.warn('doppler: refused a connection from', port.sender && port.sender.url);
    port.disconnect();
    return;
  }
  ports.add(port);
  const panel = isSidePanel(port);
  if (panel) {
    sidePanels++;
    keepAlive();
  }
  port.onDisconnect.addListener(() => {
    ports.delete(port);
    for (const subs of subscribers.values()) subs.delete(port);
    if (panel) sidePanels--;
  });
  port.onMessage.addListener((msg) => {
    handle(port, msg);
  });
  // Tell the UI which requests the last restart cut off (it ignores ids it
  // does not know).
  restored.then((interrupted) => {
    for (const job of interrupted) {
      send(port, { type: 'error', id: job.requestId !== undefined ? job.requestId : job.id, code: job.code, message: job.message, kind: job.kind, modelId: job.model });
    }
  });
});

// Start loading the engine right away so the first request finds it warm.
startEngine().catch((err) => console.error('doppler: engine failed to start:', err));
