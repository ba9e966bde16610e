package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/doppler-engine/doppler/e2e"
)

// installed is the model the store reports once the download is done.
type installed struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Architecture string `json:"architecture"`
	Quantization string `json:"quantization"`
	Bytes        int64  `json:"bytes"`
	Ready        bool   `json:"ready"`
	took         time.Duration
}

// portMsg is a worker reply to the demo's download (extension/protocol.md).
type portMsg struct {
	Type    string     `json:"type"`
	Code    string     `json:"code"`
	Message string     `json:"message"`
	Phase   string     `json:"phase"`
	Bytes   int64      `json:"bytes"`
	Total   int64      `json:"total"`
	Model   *installed `json:"model"`
}

// installTimeout bounds the download and conversion.
const installTimeout = 5 * time.Minute

// install downloads the model into the extension's store through the
// worker's Port, from the options page (where a user manages models), and
// prints the worker's progress messages as they come.
func (d *demo) install(src modelSource) (installed, error) {
	began := time.Now()
	p, err := d.b.OpenPage("options.html")
	if err != nil {
		return installed{}, err
	}
	id := fmt.Sprintf("demo-install-%d", time.Now().UnixNano())
	req := map[string]string{"type": "download", "id": id}
	switch {
	case src.Path != "":
		req["url"] = d.base + modelURLPath(src)
	case src.CatalogID != "":
		req["catalogId"] = src.CatalogID
	default:
		req["url"] = src.URL
	}
	reqJS, _ := json.Marshal(req)
	d.logf("installing the model: %s", reqJS)
	if _, err := e2e.EvalPage[bool](d.b, p, fmt.Sprintf(`(() => {
		window.__demo = [];
		const id = %q, port = chrome.runtime.connect({name: 'doppler'});
		port.onMessage.addListener((m) => { if (m.id === id) window.__demo.push(m); });
		port.onDisconnect.addListener(() => window.__demo.push({id, type: 'error', code: 'disconnected', message: 'the service worker closed the port'}));
		port.postMessage(%s);
		window.__demoPort = port;
		return true;
	})()`, id, reqJS)); err != nil {
		return installed{}, err
	}

	var lastPhase string
	var lastPrint time.Time
	deadline := time.Now().Add(installTimeout)
	for time.Now().Before(deadline) {
		msgs, err := e2e.EvalPage[[]portMsg](d.b, p, `window.__demo.splice(0)`)
		if err != nil {
			return installed{}, err
		}
		for _, m := range msgs {
			switch m.Type {
			case "progress":
				if m.Phase != lastPhase || time.Since(lastPrint) > 2*time.Second {
					d.logf("  %s %s", m.Phase, progressText(m.Bytes, m.Total))
					lastPhase, lastPrint = m.Phase, time.Now()
				}
			case "done":
				if m.Model == nil || !m.Model.Ready {
					return installed{}, fmt.Errorf("the download finished but the store reports no ready model: %+v", m)
				}
				got := *m.Model
				got.took = time.Since(began)
				d.logf("model %q installed in the extension's store (%s, %s) in %.1f s",
					got.ID, got.Architecture, got.Quantization, got.took.Seconds())
				d.screenshot(p, "demo-options", 900, 700)
				p.Close()
				return got, nil
			case "error":
				return installed{}, installError(src, m)
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	return installed{}, fmt.Errorf("the model was not installed within %v", installTimeout)
}

// installError turns the worker's error reply into the demo's message.
func installError(src modelSource, m portMsg) error {
	err := fmt.Errorf("installing %s failed (%s): %s", src.Name, m.Code, m.Message)
	if m.Code == "network" && src.Path == "" {
		return unreachableError(src, err)
	}
	return err
}

// progressText is "3.1 / 9.0 MB (34%)", or the bytes alone without a total.
func progressText(bytes, total int64) string {
	if total <= 0 {
		return fmt.Sprintf("%.1f MB", float64(bytes)/1e6)
	}
	return fmt.Sprintf("%.1f / %.1f MB (%d%%)", float64(bytes)/1e6, float64(total)/1e6, bytes*100/total)
}
