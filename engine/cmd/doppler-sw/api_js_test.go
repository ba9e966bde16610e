//go:build js && wasm

package main

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/doppler-engine/doppler/engine/gpu"
	"github.com/doppler-engine/doppler/engine/runtime"
	"github.com/doppler-engine/doppler/engine/tasks"
	"github.com/doppler-engine/doppler/engine/webjs"
	"github.com/doppler-engine/doppler/storage/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRewriteAction(t *testing.T) {
	for _, c := range []struct {
		action, tone string
		want         tasks.RewriteOptions
		bad          bool
	}{
		{action: "formal", want: tasks.RewriteOptions{Tone: tasks.ToneMoreFormal}},
		{action: "casual", want: tasks.RewriteOptions{Tone: tasks.ToneMoreCasual}},
		{action: "shorter", want: tasks.RewriteOptions{Length: tasks.LengthShorter}},
		{action: "longer", want: tasks.RewriteOptions{Length: tasks.LengthLonger}},
		{action: "grammar", want: tasks.RewriteOptions{Mode: tasks.ModeFixGrammar}},
		{action: "", tone: "more-casual", want: tasks.RewriteOptions{Tone: tasks.ToneMoreCasual}},
		{action: "rewrite", want: tasks.RewriteOptions{}},
		{action: "louder", bad: true},
		{tone: "angry", bad: true},
	} {
		t.Run(c.action+"/"+c.tone, func(t *testing.T) {
			got, err := rewriteAction(taskOptions{Action: c.action, Tone: c.tone})
			if c.bad {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			// Compare what the action sets; ValidateRewriteOptions fills the rest.
			want, err := tasks.ValidateRewriteOptions(c.want)
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
}

func TestCodeOf(t *testing.T) {
	for _, c := range []struct {
		err  error
		code string
	}{
		{&store.Error{Code: store.CodeQuota, Message: "full"}, "quota"},
		{fmt.Errorf("loading: %w", &store.Error{Code: store.CodeCorruptModel, Message: "bad"}), "corrupt-model"},
		{context.Canceled, "cancelled"},
		{fmt.Errorf("gen: %w", &runtime.ContextError{Tokens: 9000, Context: 8192}), "context-overflow"},
		{fmt.Errorf("open: %w", gpu.ErrNoWebGPU), "no-webgpu"},
		{&gpu.Error{Filter: "out-of-memory", Message: "no room"}, "too-big-for-gpu"},
		{errors.New("token_embd.weight: 9 bytes exceed the GPU's largest buffer (8 bytes): the model is too big for this GPU"), "too-big-for-gpu"},
		{errors.New("something else"), "internal"},
	} {
		code, msg := codeOf(c.err)
		assert.Equal(t, c.code, code, "%v", c.err)
		assert.NotEmpty(t, msg)
		var je *webjs.Error
		require.ErrorAs(t, codedError(c.err), &je)
		assert.Equal(t, c.code, je.Name, "the rejection's name is the code")
	}
}

func TestBenchRequestOptions(t *testing.T) {
	for _, c := range []struct {
		name string
		req  benchRequest
		want runtime.BenchOptions
		bad  string
	}{
		{name: "the CLI's defaults", want: runtime.BenchOptions{PromptTokens: 512, GenTokens: 128, StepsPerSubmit: runtime.DefaultStepsPerSubmit}},
		{name: "given", req: benchRequest{PromptTokens: 64, GenTokens: 16, StepsPerSubmit: 1, Context: 256, Precision: "f32"},
			want: runtime.BenchOptions{PromptTokens: 64, GenTokens: 16, StepsPerSubmit: 1, Context: 256, Precision: "f32"}},
		{name: "one generated token", req: benchRequest{GenTokens: 1}, bad: "genTokens ≥ 2"},
		{name: "negative prompt", req: benchRequest{PromptTokens: -1}, bad: "promptTokens ≥ 1"},
		{name: "negative steps", req: benchRequest{StepsPerSubmit: -4}, bad: "stepsPerSubmit ≥ 1"},
		{name: "negative context", req: benchRequest{Context: -1}, bad: "context ≥ 0"},
		{name: "precision", req: benchRequest{Precision: "bf16"}, bad: `unknown precision "bf16"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.req.options()
			if c.bad != "" {
				require.ErrorContains(t, err, c.bad)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}
