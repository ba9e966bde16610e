// The pages' side of the Port protocol with the service worker (DESIGN.md
// "Extension messages"): one Port named "doppler" per page, opened lazily and
// opened again after the worker went away (the browser stops idle workers;
// a new Port wakes it).

const PORT_NAME = 'doppler';

let seq = 0;

// newID returns a request id unique in this page and across the page's
// reloads (the worker may still hold a request of an earlier Port).
export function newID(prefix = 'r') {
  seq++;
  return `${prefix}-${Date.now().toString(36)}-${seq}`;
}

export class Client {
  constructor() {
    this.port = null;
    // id -> handlers {onMessage(msg), onDisconnect()}
    this.handlers = new Map();
    // Listeners for messages without a pending request (models, progress of
    // downloads started elsewhere...).
    this.listeners = new Set();
  }

  ensurePort() {
    if (this.port) return this.port;
    const port = chrome.runtime.connect({ name: PORT_NAME });
    port.onMessage.addListener((msg) => this.dispatch(msg));
    port.onDisconnect.addListener(() => {
      // Reading lastError marks it handled (else Chrome logs it).
      void chrome.runtime.lastError;
      if (this.port === port) this.port = null;
      const pending = [...this.handlers.values()];
      this.handlers.clear();
      for (const h of pending) h.onDisconnect?.();
    });
    this.port = port;
    return port;
  }

  dispatch(msg) {
    if (!msg || typeof msg !== 'object') return;
    const h = msg.id !== undefined ? this.handlers.get(msg.id) : undefined;
    if (h) h.onMessage(msg);
    for (const l of this.listeners) l(msg);
  }

  // onMessage adds a listener for every message of the Port.
  onMessage(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  post(msg) {
    try {
      this.ensurePort().postMessage(msg);
    } catch {
      // A Port that died between ensurePort and postMessage: retry once on
      // a new one.
      this.port = null;
      this.ensurePort().postMessage(msg);
    }
  }

  // request sends msg with a new id and resolves with the first reply of
  // one of the given types (default: the reply of the same type, or error).
  request(msg, replyTypes = [msg.type, 'error']) {
    const id = msg.id ?? newID(msg.type);
    return new Promise((resolve) => {
      this.handlers.set(id, {
        onMessage: (reply) => {
          if (!replyTypes.includes(reply.type)) return;
          this.handlers.delete(id);
          resolve(reply);
        },
        onDisconnect: () => resolve(workerGone(id)),
      });
      this.post({ ...msg, id });
    });
  }

  // stream sends a request that answers with a stream (task, download) and
  // calls on[type](msg) for each reply: token, note, progress, status, done,
  // error. It resolves with the final done or error message. A worker that
  // goes away mid-stream ends it with a worker-restarted error.
  stream(msg, on = {}) {
    const id = msg.id ?? newID(msg.type);
    const done = new Promise((resolve) => {
      this.handlers.set(id, {
        onMessage: (reply) => {
          on[reply.type]?.(reply);
          if (reply.type === 'done' || reply.type === 'error') {
            this.handlers.delete(id);
            resolve(reply);
          }
        },
        onDisconnect: () => {
          const reply = workerGone(id);
          on.error?.(reply);
          resolve(reply);
        },
      });
    });
    this.post({ ...msg, id });
    return { id, done, cancel: () => this.cancel(id) };
  }

  // attach re-joins a task started by an earlier page (the popup closes
  // whenever the user clicks elsewhere): the worker answers with the job's
  // result so far and streams the rest. on.result(msg) gets that snapshot;
  // it resolves like stream, or with {type:'unknown'} when the worker no
  // longer knows the job.
  attach(id, on = {}) {
    const done = new Promise((resolve) => {
      this.handlers.set(id, {
        onMessage: (reply) => {
          if (reply.type === 'result') {
            on.result?.(reply);
            if (reply.state === 'unknown' || reply.state === 'done') {
              this.handlers.delete(id);
              resolve(reply.state === 'done' ? { ...reply, type: 'done' } : { type: 'unknown', id });
            }
            return;
          }
          on[reply.type]?.(reply);
          if (reply.type === 'done' || reply.type === 'error') {
            this.handlers.delete(id);
            resolve(reply);
          }
        },
        onDisconnect: () => resolve(workerGone(id)),
      });
    });
    this.post({ type: 'attach', id });
    return { id, done, cancel: () => this.cancel(id) };
  }

  cancel(id) {
    if (!this.handlers.has(id)) return;
    try {
      this.post({ type: 'cancel', id });
    } catch {
      // No worker: nothing runs.
    }
  }
}

function workerGone(id) {
  return {
    type: 'error',
    id,
    code: 'worker-restarted',
    message: 'The engine stopped while working (the browser ended its background worker).',
  };
}

// The page's one client.
export const client = new Client();
