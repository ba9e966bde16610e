//go:build js && wasm

package main

import (
	"context"

	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/engine/runtime"
	"github.com/doppler-engine/doppler/engine/tasks"
)

// summarize --backend webgpu runs the tasks engine on runtime.TaskGenerator
// (chunk summaries of a long text decode together as one batch).
func init() {
	webgpuTaskGenerator = func(ctx context.Context, src model.Source, precision string) (tasks.Generator, func(), error) {
		m, err := runtime.Load(ctx, src, runtime.LoadOptions{Precision: precision})
		if err != nil {
			return nil, nil, err
		}
		g := &runtime.TaskGenerator{Model: m}
		return g, func() { g.Close(); m.Close() }, nil
	}
}
