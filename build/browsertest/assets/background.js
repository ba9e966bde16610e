// Classic extension service worker: the runner's server address is written
// into base.js when the runner builds this temporary extension.
importScripts("base.js", "wasm_exec.js", "harness.js");
// Extension API calls reset the service worker's idle timer (~30 s); a test
// that runs longer must not be stopped half way.
setInterval(() => chrome.runtime.getPlatformInfo(() => {}), 20000);
__browsertestStart();
