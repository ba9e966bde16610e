//go:build js && wasm

package main

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/hack-pad/hackpadfs"
	"github.com/hack-pad/safejs"

	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/engine/runtime"
	"github.com/doppler-engine/doppler/engine/tokenizer"
	"github.com/doppler-engine/doppler/engine/webjs"
	"github.com/doppler-engine/doppler/storage/httpfs"
)

// dopplerEngine.generate({modelURL, tokens, maxTokens, stepsPerSubmit?,
// precision?, ignoreEOS?}) loads a model straight from a server through the
// read-only HTTP file system (a .gguf URL, or a shard folder URL ending in
// "/" with its manifest.json), generates greedily on WebGPU and resolves to
// {tokens, stop, loadMs, genMs, precision}. The model is not kept: this is
// the runtime's own path, for tests and diagnostics (the product loads from
// the model store through "complete"/"task").
func init() {
	registerAPI("generate", func(e *engine, args []safejs.Value) any {
		return webjs.Promise(func() (any, error) {
			var req struct {
				ModelURL       string  `json:"modelURL"`
				Tokens         []int32 `json:"tokens"`
				MaxTokens      int     `json:"maxTokens"`
				StepsPerSubmit int     `json:"stepsPerSubmit"`
				Precision      string  `json:"precision"`
				IgnoreEOS      bool    `json:"ignoreEOS"`
			}
			if err := argJSON(args, 0, &req); err != nil {
				return nil, err
			}
			if req.ModelURL == "" || len(req.Tokens) == 0 || req.MaxTokens < 1 {
				return nil, fmt.Errorf("generate needs modelURL, tokens and maxTokens ≥ 1")
			}
			ctx, cancel := timeoutCtx(5 * time.Minute)
			defer cancel()
			return generateFromURL(ctx, e, req.ModelURL, req.Tokens, req.MaxTokens, req.StepsPerSubmit, req.Precision, req.IgnoreEOS)
		})
	})
}

// openURL opens the model at url through httpfs.
func openURL(ctx context.Context, url string) (model.Source, error) {
	var fsys hackpadfs.FS
	var name string
	var err error
	if strings.HasSuffix(url, "/") {
		fsys, err = httpfs.NewShardFolder(url, httpfs.WithContext(ctx))
		name = "."
	} else {
		dir, file := path.Split(url)
		fsys, err = httpfs.New(dir, httpfs.WithContext(ctx))
		name = file
	}
	if err != nil {
		return nil, err
	}
	return model.OpenFS(fsys, name)
}

func generateFromURL(ctx context.Context, e *engine, url string, tokens []int32, maxTokens, steps int, precision string, ignoreEOS bool) (any, error) {
	dev, err := e.device(ctx)
	if err != nil {
		return nil, codedError(err)
	}
	start := time.Now()
	src, err := openURL(ctx, url)
	if err != nil {
		return nil, codedError(err)
	}
	defer src.Close()
	m, err := runtime.Load(ctx, src, runtime.LoadOptions{Precision: precision, Device: dev})
	if err != nil {
		return nil, codedError(err)
	}
	defer m.Close()
	loadMs := ms(time.Since(start))
	length := len(tokens) + maxTokens + max(steps, 1)
	if c := m.Config.ContextLength; c > 0 {
		length = min(length, c)
	}
	s, err := m.NewSession(1, length)
	if err != nil {
		return nil, codedError(err)
	}
	defer s.Close()
	o := runtime.GenOptions{MaxTokens: maxTokens, StepsPerSubmit: steps}
	if !ignoreEOS {
		if tok, err := tokenizer.FromMetadata(src.Metadata()); err == nil {
			o.IsStop = tok.IsStop
		}
	}
	start = time.Now()
	res, err := s.Generate(ctx, [][]int32{tokens}, o)
	if err != nil {
		return nil, codedError(err)
	}
	return webjs.FromJSON(map[string]any{"tokens": res[0].Tokens, "stop": res[0].Stop, "loadMs": loadMs,
		"genMs": ms(time.Since(start)), "precision": m.Backend.Precision().String()})
}
