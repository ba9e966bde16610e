// harness.js runs one Go js/wasm program (a test binary) for the browsertest
// runner, in a page or in an extension service worker. The Go program's
// stdout/stderr go back to the runner as framed POSTs, in order, and its exit
// code ends the run. Config comes from the runner at /config.json.
"use strict";

(() => {
  const base = globalThis.__browsertestBase || "";
  const queue = [];     // pending output frames: {fd, bytes, done}
  let pumping = null;
  let finished = false;

  // One POST carries every frame queued so far: [fd u8][len u32 LE][bytes].
  async function pump() {
    while (queue.length > 0) {
      const batch = queue.splice(0, queue.length);
      let size = 0;
      for (const f of batch) size += 5 + f.bytes.length;
      const body = new Uint8Array(size);
      const view = new DataView(body.buffer);
      let off = 0;
      for (const f of batch) {
        view.setUint8(off, f.fd);
        view.setUint32(off + 1, f.bytes.length, true);
        body.set(f.bytes, off + 5);
        off += 5 + f.bytes.length;
      }
      try {
        await fetch(base + "/output", { method: "POST", body });
      } catch (e) {
        console.error("browsertest: output lost:", e);
      }
      for (const f of batch) if (f.done) f.done();
    }
    pumping = null;
  }

  function enqueue(fd, buf, done) {
    // Copy: the buffer is a view into wasm memory that Go reuses.
    queue.push({ fd, bytes: new Uint8Array(buf), done });
    if (!pumping) pumping = pump();
  }

  async function finish(code, message) {
    if (finished) return;
    finished = true;
    if (message) enqueue(2, new TextEncoder().encode("browsertest: " + message + "\n"));
    while (pumping) await pumping;
    await fetch(base + "/exit?code=" + code, { method: "POST" });
  }

  globalThis.__browsertestFinish = finish;
  addEventListener("error", (e) => finish(3, "uncaught error: " + (e.message || e)));
  addEventListener("unhandledrejection", (e) => finish(3, "unhandled rejection: " + (e.reason && e.reason.stack || e.reason)));

  async function main() {
    const cfg = await (await fetch(base + "/config.json")).json();
    const go = new Go();
    // runtime.wasmWrite (panics, print) writes synchronously: queue it.
    globalThis.fs.writeSync = (fd, buf) => { enqueue(fd, buf); return buf.length; };
    // os.Stdout/os.Stderr writes wait until their bytes reached the runner.
    globalThis.fs.write = (fd, buf, offset, length, position, callback) => {
      if (position !== null) {
        const err = new Error("not implemented"); err.code = "ENOSYS";
        callback(err);
        return;
      }
      enqueue(fd, buf.subarray(offset, offset + length), () => callback(null, length));
    };
    go.argv = cfg.argv;
    go.env = cfg.env;
    go.exit = (code) => { finish(code); };
    const resp = await fetch(base + "/test.wasm");
    const { instance } = await WebAssembly.instantiateStreaming(resp, go.importObject);
    await go.run(instance);
    // go.run resolves after exit; exit already reported through go.exit.
    finish(0);
  }

  globalThis.__browsertestStart = () => main().catch((e) => finish(3, "harness: " + (e && e.stack || e)));
})();
