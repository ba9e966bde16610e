// The options page: the model manager (installed models, catalog,
// download by address, import of a local GGUF file with progress, delete,
// default model, storage used) and the generation settings.

import { client, newID } from './client.js';
import {
  loadSettings, saveSettings, errorText, requestStatus, el, formatBytes, fillLanguages,
} from './common.js';
import { listModels, showProgress, requestOrigins } from './models.js';

const $ = (id) => document.getElementById(id);

// Models ---------------------------------------------------------------------

let installedIDs = new Set();

async function refresh() {
  $('models-error').textContent = '';
  let data;
  try {
    data = await listModels();
  } catch (err) {
    $('models-error').textContent = errorText(err.reply || { code: 'internal', message: err.message });
    return;
  }
  const settings = await loadSettings();
  const ready = data.installed.filter((m) => m.ready);
  // The default model: the chosen one while it is installed, else the
  // engine's choice (the first ready model).
  let def = settings.defaultModel;
  if (!ready.some((m) => m.id === def)) def = '';
  installedIDs = new Set(data.installed.map((m) => m.id));

  $('installed-body').replaceChildren(
    ...data.installed.map((m) => {
      const radio = el('input', {
        type: 'radio', name: 'default-model', value: m.id, id: `default-${m.id}`,
        'aria-label': `Use ${m.name || m.id} by default`,
        checked: m.id === def || (!def && m === ready[0]),
        disabled: !m.ready,
        onchange: async () => {
          await saveSettings({ defaultModel: m.id });
          $('storage-used').textContent = `${m.name || m.id} is now the default model.`;
        },
      });
      const del = el('button', {
        type: 'button', class: 'danger', 'aria-label': `Delete ${m.name || m.id}`, disabled: !!m.active,
        onclick: () => removeModel(m),
      }, 'Delete');
      const actions = el('td', {}, del);
      if (!m.ready && !m.active && !m.corrupt && m.downloaded > 0) {
        actions.prepend(el('button', { type: 'button', onclick: () => startJob(m.name || m.id, { modelId: m.id }, m.source) }, 'Resume'), ' ');
      }
      return el('tr', { 'data-model': m.id },
        el('td', {}, radio),
        el('td', {}, el('label', { for: `default-${m.id}` }, m.name || m.id), m.quantization ? el('span', { class: 'muted' }, ` ${m.quantization}`) : null),
        el('td', {}, formatBytes(m.bytes)),
        el('td', {}, modelState(m)),
        actions,
      );
    }),
  );
  $('installed').hidden = data.installed.length === 0;
  $('installed-empty').hidden = data.installed.length > 0;

  const installedCatalog = new Set(data.installed.map((m) => m.catalogId).filter(Boolean));
  $('catalog-body').replaceChildren(
    ...data.catalog.map((c) =>
      el('tr', { 'data-catalog': c.id },
        el('td', {}, c.name),
        el('td', {}, c.quantization || ''),
        el('td', {}, formatBytes(c.bytes)),
        el('td', { class: 'muted' }, c.license || ''),
        el('td', {},
          installedCatalog.has(c.id)
            ? el('span', { class: 'muted' }, 'Installed')
            : el('button', { type: 'button', 'aria-label': `Download ${c.name}`, onclick: () => startJob(c.name, { catalogId: c.id }, c.url) }, 'Download'),
        ),
      ),
    ),
  );
  showUsage(data.raw.usage);
  document.body.dataset.models = String(data.installed.length);
}

function modelState(m) {
  if (m.corrupt) return 'Damaged: delete and download again';
  if (m.active) return 'Working…';
  if (m.ready) return 'Ready';
  if (m.downloaded > 0) return `Partly downloaded (${formatBytes(m.downloaded)}${m.sourceBytes ? ` of ${formatBytes(m.sourceBytes)}` : ''})`;
  return 'Not ready';
}

async function showUsage(modelsBytes) {
  let text = '';
  if (typeof modelsBytes === 'number') text = `Models use ${formatBytes(modelsBytes)}.`;
  try {
    const { usage, quota } = await navigator.storage.estimate();
    text += ` Doppler’s storage: ${formatBytes(usage)} used, ${formatBytes(Math.max(0, quota - usage))} free.`;
  } catch {
    // No estimate: the models' size alone.
  }
  $('storage-used').textContent = text.trim();
}

async function removeModel(m) {
  const name = m.name || m.id;
  if (!confirm(`Delete ${name}? You can download it again later.`)) return;
  const reply = await client.request({ type: 'delete', modelId: m.id }, ['done', 'deleted', 'models', 'error']);
  if (reply.type === 'error') $('models-error').textContent = errorText(reply);
  const settings = await loadSettings();
  if (settings.defaultModel === m.id) await saveSettings({ defaultModel: '' });
  refresh();
}

// Jobs (downloads and imports) with progress bars ------------------------------

function jobRow(name) {
  $('jobs-section').hidden = false;
  const id = newID('job');
  const label = el('span', { id: `${id}-label` }, name);
  const bar = el('progress', { max: '1', 'aria-labelledby': `${id}-label` });
  const text = el('span', { class: 'muted', role: 'status' });
  const stop = el('button', { type: 'button', 'aria-label': `Stop ${name}` }, 'Stop');
  const li = el('li', { class: 'card', 'data-job': id }, label, bar, el('div', { class: 'row' }, text, stop));
  $('jobs').prepend(li);
  return { id, li, bar, text, stop };
}

// startJob downloads {catalogId} | {url} | {modelId} (resume); url is the
// file's address, for the host permission (asked first, in the click).
async function startJob(name, what, url) {
  const allowed = url ? requestOrigins(url) : null;
  const row = jobRow(name);
  await allowed;
  const job = client.stream({ type: 'download', ...what }, { progress: (p) => showProgress(row.bar, row.text, p) });
  row.stop.onclick = () => job.cancel();
  refresh();
  finishJob(row, await job.done, name);
}

function finishJob(row, end, name) {
  row.stop.remove();
  row.li.dataset.state = end.type === 'done' ? 'done' : 'error';
  if (end.type === 'done') {
    row.bar.value = 1;
    row.text.textContent = `${name} is ready.`;
  } else {
    row.text.textContent = errorText(end);
  }
  refresh();
}

// importFile copies the file into OPFS (import-staging.js) with progress,
// then asks the worker to convert it into a model.
async function importFile(file) {
  if (!/\.gguf$/i.test(file.name)) {
    $('models-error').textContent = `${file.name} is not a GGUF file (.gguf).`;
    return;
  }
  const row = jobRow(file.name);
  let copied = 0;
  const counted = {
    // import-staging.js reads only file.stream(): count the bytes as they pass.
    stream: () =>
      file.stream().pipeThrough(
        new TransformStream({
          transform(chunk, ctl) {
            copied += chunk.byteLength;
            showProgress(row.bar, row.text, { phase: 'copying', bytes: copied, total: file.size });
            ctl.enqueue(chunk);
          },
        }),
      ),
  };
  let path;
  try {
    path = await self.dopplerStageImport(counted);
  } catch (err) {
    finishJob(row, { type: 'error', code: /quota/i.test(err.name + err.message) ? 'quota' : 'internal', message: err.message }, file.name);
    return;
  }
  const job = client.stream({ type: 'import', path, name: file.name }, { progress: (p) => showProgress(row.bar, row.text, p) });
  row.stop.onclick = () => job.cancel();
  finishJob(row, await job.done, file.name);
}

$('import-file').addEventListener('change', (e) => {
  const file = e.target.files && e.target.files[0];
  if (file) importFile(file);
  e.target.value = '';
});
const drop = $('dropzone');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  for (const f of e.dataTransfer.files) importFile(f);
});
$('url-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const url = $('model-url').value.trim();
  if (!/^https:\/\//i.test(url) && !/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?\//i.test(url)) {
    $('models-error').textContent = 'Give the https:// address of a .gguf file.';
    return;
  }
  $('model-url').value = '';
  startJob(url.split('/').pop() || url, { url }, url);
});

// Generation settings ------------------------------------------------------------

const FIELDS = [
  ['set-temperature', 'temperature', Number],
  ['set-topp', 'topP', Number],
  ['set-maxtokens', 'maxTokens', Number],
  ['set-context', 'contextSize', Number],
  ['set-language', 'outputLanguage', String],
];

async function initSettings() {
  const s = await loadSettings();
  fillLanguages($('set-language'), s.outputLanguage);
  for (const [id, key] of FIELDS) $(id).value = s[key];
  $('settings').addEventListener('change', async (e) => {
    const f = FIELDS.find(([id]) => id === e.target.id);
    if (!f) return;
    if (e.target.validity && !e.target.validity.valid) {
      $('settings-status').textContent = `${e.target.labels[0].firstChild.textContent.trim()}: ${e.target.validationMessage}`;
      return;
    }
    await saveSettings({ [f[1]]: f[2](e.target.value) });
    $('settings-status').textContent = 'Saved.';
  });
  $('settings').addEventListener('submit', (e) => e.preventDefault());
}

// Messages that concern the store, whoever started them (another page's
// download): refresh the list when one ends.
client.onMessage((m) => {
  if (m.type === 'models' && !installedIDs.size && Array.isArray(m.models) && m.models.length) refresh();
});

requestStatus();
initSettings();
window.dopplerOptions = { refresh, ready: refresh() };
