// Command demo is `make demo`: it starts headless Chromium with the built
// extension (dist/extension), asks the extension's service worker for the
// engine status over the same path the UI uses, and prints it.
//
// For now the engine reports its WebGPU device; the demo grows with the
// engine into summarizing a sample page.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/doppler-engine/doppler/e2e"
)

func main() { os.Exit(run()) }

func run() int {
	start := time.Now()
	b, err := e2e.Launch(e2e.Options{Timeout: 5 * time.Minute})
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		return 1
	}
	defer b.Close()
	fmt.Printf("Chromium started with extension %s\n", b.ExtensionID)

	// Ask the worker from the popup over the "doppler" Port, as the UI does.
	page, err := b.OpenPage("popup.html")
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		return 1
	}
	status, err := e2e.EvalPage[json.RawMessage](b, page, `new Promise((resolve, reject) => {
		const port = chrome.runtime.connect({name: 'doppler'});
		port.onMessage.addListener(m => { if (m.id === 'demo') resolve(m); });
		port.onDisconnect.addListener(() => reject(new Error('the worker closed the port')));
		port.postMessage({type: 'status', id: 'demo'});
	})`)
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		return 1
	}
	// Give the popup a moment to render its own status, then show its text.
	time.Sleep(500 * time.Millisecond)
	if shown, err := e2e.EvalPage[string](b, page, `document.body.innerText`); err == nil {
		fmt.Printf("\nThe popup shows:\n%s\n", shown)
	}

	var st struct {
		WebGPU json.RawMessage `json:"webgpu"`
		Reason string          `json:"reason"`
	}
	if err := json.Unmarshal(status, &st); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		return 1
	}
	pretty, _ := json.MarshalIndent(json.RawMessage(status), "", "  ")
	fmt.Printf("\nThe service worker's status reply:\n%s\n", pretty)
	fmt.Printf("\n(%.1f s)\n", time.Since(start).Seconds())
	if string(st.WebGPU) == "null" {
		fmt.Fprintf(os.Stderr, "demo: the engine has no WebGPU: %s\n", st.Reason)
		return 1
	}
	return 0
}
