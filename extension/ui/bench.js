// The benchmark page (bench.html, linked from the settings page). It sends
// the Port protocol's bench message and shows the figures `doppler bench
// --json` prints, so a browser's numbers compare with the command line's
// (docs/PERFORMANCE.md); reopened, it shows the newest bench the worker
// knows of, following it to its end if it still measures.

import { client, newID } from './client.js';
import {
  errorText, requestStatus, el, formatBytes, copyText, modelName, loadSettings,
} from './common.js';
import { listModels } from './models.js';

const $ = (id) => document.getElementById(id);

// rows are the report's keys as shown: label, value (from the report r).
const fixed = (v, d) => (Number.isFinite(v) ? v.toFixed(d) : '–');
const rows = [
  ['Device', (r) => r.device || 'unknown'],
  ['Model', (r) => `${r.model} (${r.precision} activations)`],
  ['Load from storage', (r) => `${fixed(r.load_ms, 0)} ms`],
  ['Prefill', (r) => `${fixed(r.prefill_tok_s, 1)} tokens/s`],
  ['Time to first token', (r) => `${fixed(r.ttft_ms, 1)} ms`],
  ['… for a new prompt length', (r) => (r.ttft_new_length_ms ? `${fixed(r.ttft_new_length_ms, 1)} ms` : '–')],
  ['Decode', (r) => `${fixed(r.decode_tok_s, 1)} tokens/s`],
  ['GPU memory', (r) => formatBytes(r.gpu_bytes)],
  ['GPU dispatches per token', (r) => fixed(r.dispatches_per_token, 1)],
  ['Go→JS calls per token', (r) => fixed(r.js_calls_per_token, 2)],
  ['Weights read per token', (r) => formatBytes(r.weight_bytes_per_token)],
  ['Implied bandwidth', (r) => `${formatBytes(r.weight_bytes_per_token * r.decode_tok_s)}/s`],
];

let running = null;

function show(report) {
  $('bench-rows').replaceChildren(...rows.map(([label, value]) =>
    el('tr', {}, el('th', { scope: 'row', text: label }), el('td', { text: value(report) }))));
  $('bench-json').textContent = JSON.stringify(report, null, 2);
  $('result-section').hidden = false;
}

// setRunning switches the buttons; body[data-state] is running, done or
// error (e2e tests wait on it).
function setRunning(on) {
  $('bench-run').disabled = on;
  $('bench-cancel').disabled = !on;
  if (on) document.body.dataset.state = 'running';
}

// progress are the stream's reactions before its end: where the bench
// waits, or that it measures.
const progress = {
  queued: (m) => {
    $('bench-state').textContent = m.position > 0 ? `Waiting behind ${m.position} other request(s)…` : 'Measuring…';
  },
  result: (m) => {
    if (m.state === 'queued' || m.state === 'running') progress.queued({ position: m.state === 'queued' ? m.position : 0 });
  },
};

// follow shows a bench (started here, or found by resume) until it ends,
// then its figures or its error.
async function follow(handle) {
  running = handle;
  setRunning(true);
  const reply = await handle.done;
  running = null;
  setRunning(false);
  if (reply.type === 'done' && reply.bench) {
    $('bench-state').textContent = 'Done.';
    show(reply.bench);
    document.body.dataset.state = 'done';
  } else if (reply.type === 'error') {
    $('bench-state').textContent = '';
    $('bench-error').textContent = errorText(reply);
    document.body.dataset.state = 'error';
  } else {
    $('bench-state').textContent = ''; // the worker forgot it
    delete document.body.dataset.state;
  }
}

async function run(ev) {
  ev.preventDefault();
  if (running) return;
  $('bench-error').textContent = '';
  $('bench-state').textContent = 'Waiting for the engine…';
  await follow(client.stream({
    type: 'bench', id: newID('bench'), modelId: $('bench-model').value || undefined,
    promptTokens: Number($('bench-prompt').value), genTokens: Number($('bench-gen').value),
  }, progress));
}

// resume shows the newest bench the worker knows of, so a page reopened
// (or reloaded) while its bench measured finds it: still queued or
// running, it is followed to its end; done, its figures show. One that
// failed is left alone.
async function resume() {
  const reply = await client.request({ type: 'jobs' });
  const job = reply.type === 'jobs' ? reply.jobs.find((j) => j.kind === 'bench') : null;
  if (!job || job.state === 'error' || running) return;
  await follow(client.attach(job.id, progress));
}

async function fillModels() {
  try {
    const [{ installed }, settings] = await Promise.all([listModels(), loadSettings()]);
    const ready = installed.filter((m) => m.ready);
    $('bench-model').replaceChildren(...ready.map((m) =>
      el('option', { value: m.id, selected: m.id === settings.defaultModel, text: `${modelName(m)} (${formatBytes(m.bytes)})` })));
    if (ready.length === 0) {
      $('bench-error').textContent = 'No model is installed yet: download one in Doppler’s settings.';
      $('bench-run').disabled = true;
    }
  } catch (err) {
    $('bench-error').textContent = errorText(err.reply || { code: 'internal', message: err.message });
  }
}

$('bench-form').addEventListener('submit', run);
$('bench-cancel').addEventListener('click', () => running?.cancel());
$('bench-copy').addEventListener('click', () => copyText($('bench-json').textContent, $('copy-status')));
requestStatus();
// window.dopplerReady: the model list is in (e2e tests wait on it).
fillModels().then(() => {
  window.dopplerReady = true;
});
resume();
