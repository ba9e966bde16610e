//go:build js && wasm

package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/engine/ref"
	"github.com/doppler-engine/doppler/engine/runtime"
	"github.com/doppler-engine/doppler/engine/tasks"
	"github.com/doppler-engine/doppler/engine/tokenizer"
	"github.com/doppler-engine/doppler/storage/opfs"
	"github.com/doppler-engine/doppler/storage/store"
)

// Backends a model can be loaded on. WebGPU is the product's; the pure-Go
// CPU reference exists for tests and diagnostics (far too slow for real
// models in wasm) and is used only when a request names it.
const (
	backendWebGPU = "webgpu"
	backendCPU    = "cpu"
)

// taskContext caps the context a task may use: the KV cache of a longer one
// costs GPU memory the user's other tabs need; tasks split longer inputs.
const taskContext = 4096

// host is the worker's model store and its one loaded model. The loaded
// model stays until unload (background.js calls it a few minutes after the
// last request) or until another model or backend is asked for.
type host struct {
	mu       sync.Mutex
	storeOpt store.Options
	st       *store.Store

	jobsMu sync.Mutex
	jobs   map[string]context.CancelFunc

	// gen serializes generation (background.js queues too; this guards
	// direct callers).
	gen    sync.Mutex
	loadMu sync.Mutex
	lm     *loadedModel
}

var theHost = &host{jobs: map[string]context.CancelFunc{}}

// loadedModel is a model ready to generate.
type loadedModel struct {
	id      string
	backend string
	src     model.Source
	gpu     *runtime.Model
	tok     *tokenizer.Tokenizer
	gen     tasks.Generator
	tasks   *tasks.Engine // nil when the model has no usable tokenizer
	loadMs  float64
}

func (m *loadedModel) close() {
	if g, ok := m.gen.(*runtime.TaskGenerator); ok {
		g.Close()
	}
	if m.gpu != nil {
		m.gpu.Close()
	}
	m.src.Close()
}

// store opens the model store on OPFS once.
func (h *host) store() (*store.Store, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.st != nil {
		return h.st, nil
	}
	root, err := opfs.New()
	if err != nil {
		return nil, &store.Error{Code: store.CodeInternal, Message: "The browser's private file system (OPFS) is unavailable: " + err.Error(), Err: err}
	}
	o := h.storeOpt
	o.Estimate = opfs.Estimate
	o.Client = &http.Client{Transport: cancelableTransport{base: http.DefaultTransport}}
	st, err := store.New(root, o)
	if err != nil {
		return nil, err
	}
	h.st = st
	return st, nil
}

// configure changes the store's options (shard size, retries, backoff) for
// stores opened later; tests call it before the first store use.
func (h *host) configure(o store.Options) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.storeOpt = o
	h.st = nil
	return nil
}

// startJob registers a cancellable job under the request id.
func (h *host) startJob(id string) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	h.jobsMu.Lock()
	if id != "" {
		if old, ok := h.jobs[id]; ok {
			old()
		}
		h.jobs[id] = cancel
	}
	h.jobsMu.Unlock()
	return ctx, func() {
		h.jobsMu.Lock()
		delete(h.jobs, id)
		h.jobsMu.Unlock()
		cancel()
	}
}

// cancel stops the job of request id; false when none runs.
func (h *host) cancel(id string) bool {
	h.jobsMu.Lock()
	c, ok := h.jobs[id]
	h.jobsMu.Unlock()
	if ok {
		c()
	}
	return ok
}

// defaultModel picks the model a request without one uses: the loaded one,
// else the first ready model of the store.
func (h *host) defaultModel() (string, error) {
	h.loadMu.Lock()
	lm := h.lm
	h.loadMu.Unlock()
	if lm != nil {
		return lm.id, nil
	}
	st, err := h.store()
	if err != nil {
		return "", err
	}
	list, err := st.List()
	if err != nil {
		return "", err
	}
	for _, m := range list {
		if m.Ready {
			return m.ID, nil
		}
	}
	return "", &store.Error{Code: store.CodeNoModel, Message: "No model is installed yet: download one in Doppler's options."}
}

// load makes model id (the default when empty) ready on backend, reusing
// the loaded one when it matches.
func (h *host) load(ctx context.Context, e *engine, id, backend string) (*loadedModel, error) {
	if backend == "" {
		backend = backendWebGPU
	}
	if backend != backendWebGPU && backend != backendCPU {
		return nil, fmt.Errorf("unknown backend %q (want webgpu or cpu)", backend)
	}
	if id == "" {
		var err error
		if id, err = h.defaultModel(); err != nil {
			return nil, err
		}
	}
	h.loadMu.Lock()
	defer h.loadMu.Unlock()
	if h.lm != nil && h.lm.id == id && h.lm.backend == backend {
		return h.lm, nil
	}
	if h.lm != nil {
		h.lm.close()
		h.lm = nil
	}
	start := time.Now()
	st, src, err := h.openStored(id)
	if err != nil {
		return nil, err
	}
	lm := &loadedModel{id: id, backend: backend, src: src}
	if tok, err := tokenizer.FromMetadata(src.Metadata()); err == nil {
		lm.tok = tok
	}
	switch backend {
	case backendWebGPU:
		dev, err := e.device(ctx)
		if err != nil {
			src.Close()
			return nil, err
		}
		m, err := runtime.Load(ctx, src, runtime.LoadOptions{Device: dev})
		if err != nil {
			src.Close()
			return nil, st.Classify(id, err)
		}
		lm.gpu = m
		lm.gen = &runtime.TaskGenerator{Model: m}
	case backendCPU:
		be := ref.New()
		m, err := arch.Load(src, be)
		if err != nil {
			src.Close()
			return nil, st.Classify(id, err)
		}
		lm.gen = &tasks.ArchGenerator{Model: m, Backend: be}
	}
	if lm.tok != nil {
		n := taskContext
		if c := src.Config().ContextLength; c > 0 {
			n = min(n, c)
		}
		if te, err := tasks.NewEngine(lm.tok, lm.gen, n); err == nil {
			lm.tasks = te
		}
	}
	lm.loadMs = float64(time.Since(start).Microseconds()) / 1000
	h.lm = lm
	return lm, nil
}

// openStored opens the stored model id, which must be ready and intact.
func (h *host) openStored(id string) (*store.Store, model.Source, error) {
	st, err := h.store()
	if err != nil {
		return nil, nil, err
	}
	list, err := st.List()
	if err != nil {
		return nil, nil, err
	}
	ready := false
	for _, m := range list {
		if m.ID == id {
			if m.Corrupt {
				return nil, nil, &store.Error{Code: store.CodeCorruptModel, ModelID: id, Source: m.Source,
					Message: fmt.Sprintf("The model %s is damaged: delete it and download it again.", id)}
			}
			ready = m.Ready
		}
	}
	if !ready {
		return nil, nil, &store.Error{Code: store.CodeNoModel, ModelID: id, Message: fmt.Sprintf("The model %s is not installed (or not finished downloading).", id)}
	}
	src, err := model.OpenFS(st.FS(), st.Dir(id))
	if err != nil {
		return nil, nil, st.Classify(id, err)
	}
	return st, src, nil
}

// unload frees the loaded model (GPU buffers included); the next request
// loads it again.
func (h *host) unload() bool {
	h.loadMu.Lock()
	defer h.loadMu.Unlock()
	if h.lm == nil {
		return false
	}
	h.lm.close()
	h.lm = nil
	return true
}

// unloadIf frees the loaded model when it is model id (after Delete).
func (h *host) unloadIf(id string) {
	h.loadMu.Lock()
	defer h.loadMu.Unlock()
	if h.lm != nil && h.lm.id == id {
		h.lm.close()
		h.lm = nil
	}
}

// loadedInfo describes the loaded model for status replies.
type loadedInfo struct {
	ID      string  `json:"id"`
	Backend string  `json:"backend"`
	LoadMs  float64 `json:"loadMs"`
	Arch    string  `json:"architecture,omitempty"`
}

func (h *host) loaded() *loadedInfo {
	h.loadMu.Lock()
	defer h.loadMu.Unlock()
	if h.lm == nil {
		return nil
	}
	return &loadedInfo{ID: h.lm.id, Backend: h.lm.backend, LoadMs: h.lm.loadMs, Arch: h.lm.src.Config().Architecture}
}

// errNoTokenizer is a task on a model without a tokenizer.
var errNoTokenizer = errors.New("this model has no tokenizer, so it cannot run text tasks")
