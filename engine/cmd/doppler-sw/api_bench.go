//go:build js && wasm

package main

import (
	"fmt"

	"github.com/hack-pad/safejs"

	"github.com/doppler-engine/doppler/engine/runtime"
	"github.com/doppler-engine/doppler/engine/webjs"
)

// dopplerEngine.bench({id?, model?, promptTokens?, genTokens?,
// stepsPerSubmit?, context?, precision?}) measures a stored model as
// `doppler bench --backend webgpu --json` does, on the worker's device, and
// resolves to that report's keys plus model (the id benched).
// It frees the warm model first (a bench loads its own copy: load_ms is a
// cold load from OPFS), and runs in the generation queue (background.js's
// "bench" message, extension/protocol.md); cancel(id) stops it.
func init() {
	registerAPI("bench", func(e *engine, args []safejs.Value) any {
		return webjs.Promise(func() (any, error) {
			var req benchRequest
			if len(args) > 0 {
				if err := argJSON(args, 0, &req); err != nil {
					return nil, err
				}
			}
			r, err := runBench(e, req)
			if err != nil {
				return nil, codedError(err)
			}
			return webjs.FromJSON(r)
		})
	})
}

type benchRequest struct {
	ID             string `json:"id"`
	Model          string `json:"model"`
	PromptTokens   int    `json:"promptTokens"`
	GenTokens      int    `json:"genTokens"`
	StepsPerSubmit int    `json:"stepsPerSubmit"`
	Context        int    `json:"context"`
	Precision      string `json:"precision"`
}

// benchReply is the CLI's report with the model it measured.
type benchReply struct {
	*runtime.BenchReport
	Model string `json:"model"`
}

// The CLI's defaults (doppler bench).
const (
	benchPromptTokens = 512
	benchGenTokens    = 128
)

// options checks req and fills in the CLI's defaults.
func (req benchRequest) options() (runtime.BenchOptions, error) {
	o := runtime.BenchOptions{PromptTokens: req.PromptTokens, GenTokens: req.GenTokens, StepsPerSubmit: req.StepsPerSubmit,
		Context: req.Context, Precision: req.Precision}
	if o.PromptTokens == 0 {
		o.PromptTokens = benchPromptTokens
	}
	if o.GenTokens == 0 {
		o.GenTokens = benchGenTokens
	}
	if o.StepsPerSubmit == 0 {
		o.StepsPerSubmit = runtime.DefaultStepsPerSubmit
	}
	switch {
	case o.PromptTokens < 1 || o.GenTokens < 2:
		return o, fmt.Errorf("bench needs promptTokens ≥ 1 and genTokens ≥ 2 (got %d, %d)", o.PromptTokens, o.GenTokens)
	case o.StepsPerSubmit < 1 || o.Context < 0:
		return o, fmt.Errorf("bench needs stepsPerSubmit ≥ 1 and context ≥ 0 (got %d, %d)", o.StepsPerSubmit, o.Context)
	}
	return o, runtime.CheckPrecision(o.Precision)
}

func runBench(e *engine, req benchRequest) (*benchReply, error) {
	o, err := req.options()
	if err != nil {
		return nil, err
	}
	ctx, done := theHost.startJob(req.ID)
	defer done()
	theHost.gen.Lock()
	defer theHost.gen.Unlock()
	id := req.Model
	if id == "" {
		if id, err = theHost.defaultModel(); err != nil {
			return nil, err
		}
	}
	_, src, err := theHost.openStored(id)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	// Two copies of a large model may not fit the GPU; the next task loads
	// it again.
	theHost.unload()
	dev, err := e.device(ctx)
	if err != nil {
		return nil, err
	}
	r, err := runtime.BenchOn(ctx, dev, src, o)
	if err != nil {
		return nil, theHost.classify(id, err)
	}
	return &benchReply{BenchReport: r, Model: id}, nil
}
