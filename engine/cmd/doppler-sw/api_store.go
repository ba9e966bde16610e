//go:build js && wasm

package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/doppler-engine/doppler/engine/webjs"
	"github.com/doppler-engine/doppler/storage/opfs"
	"github.com/doppler-engine/doppler/storage/store"
	"github.com/hack-pad/safejs"
)

// The model store's methods on dopplerEngine. Each returns a Promise; a
// rejection is a JS Error whose name is the protocol's error code.
//
//	models()                         → {models:[store.Model...], usage, catalog:[...]}
//	download(req, onProgress)        → store.Model; req {id, url?|catalogId?|modelId?, name?, sha256?}
//	                                   (modelId alone resumes that model's download)
//	importStaged(req, onProgress)    → store.Model; req {id, path, name}: converts the GGUF an
//	                                   extension page wrote to OPFS at path (under import-staging/),
//	                                   then removes that file
//	delete(modelId)                  → null (after a generation running on it ends)
//	usage()                          → {usage, quota, models}
//	cancel(id)                       → bool: stops the job (download, import or task) of request id
//	configure({shardSize, retries, backoffMs}) → null (tests: shard size of new downloads)
func init() {
	registerAPI("models", func(_ *engine, _ []safejs.Value) any {
		return webjs.Promise(func() (any, error) {
			st, err := theHost.store()
			if err != nil {
				return nil, codedError(err)
			}
			list, err := st.List()
			if err != nil {
				return nil, codedError(err)
			}
			if list == nil {
				list = []store.Model{}
			}
			usage, err := st.Usage()
			if err != nil {
				return nil, codedError(err)
			}
			return webjs.FromJSON(map[string]any{"models": list, "usage": usage, "catalog": store.Catalog})
		})
	})
	registerAPI("download", func(_ *engine, args []safejs.Value) any {
		return webjs.Promise(func() (any, error) {
			var req struct {
				ID        string `json:"id"`
				URL       string `json:"url"`
				CatalogID string `json:"catalogId"`
				ModelID   string `json:"modelId"`
				Name      string `json:"name"`
				SHA256    string `json:"sha256"`
			}
			if err := argJSON(args, 0, &req); err != nil {
				return nil, err
			}
			st, err := theHost.store()
			if err != nil {
				return nil, codedError(err)
			}
			ctx, done := theHost.startJob(req.ID)
			defer done()
			progress := progressFunc(args, 1)
			var m *store.Model
			if req.URL == "" && req.CatalogID == "" && req.ModelID != "" {
				m, err = st.Resume(ctx, req.ModelID, progress)
			} else {
				m, err = st.Download(ctx, store.DownloadRequest{URL: req.URL, CatalogID: req.CatalogID, ID: req.ModelID,
					Name: req.Name, SHA256: req.SHA256}, progress)
			}
			if err != nil {
				return nil, codedError(err)
			}
			return webjs.FromJSON(m)
		})
	})
	registerAPI("importStaged", func(_ *engine, args []safejs.Value) any {
		return webjs.Promise(func() (any, error) {
			var req struct {
				ID   string `json:"id"`
				Path string `json:"path"`
				Name string `json:"name"`
			}
			if err := argJSON(args, 0, &req); err != nil {
				return nil, err
			}
			m, err := importStaged(req.ID, req.Path, req.Name, progressFunc(args, 1))
			if err != nil {
				return nil, codedError(err)
			}
			return webjs.FromJSON(m)
		})
	})
	registerAPI("delete", func(_ *engine, args []safejs.Value) any {
		return webjs.Promise(func() (any, error) {
			id, err := argString(args, 0)
			if err != nil {
				return nil, err
			}
			st, err := theHost.store()
			if err != nil {
				return nil, codedError(err)
			}
			// A generation using the model finishes first: its GPU buffers
			// must not go away under it.
			theHost.gen.Lock()
			theHost.unloadIf(id)
			theHost.gen.Unlock()
			if err := st.Delete(id); err != nil {
				return nil, codedError(err)
			}
			return nil, nil
		})
	})
	registerAPI("usage", func(_ *engine, _ []safejs.Value) any {
		return webjs.Promise(func() (any, error) {
			st, err := theHost.store()
			if err != nil {
				return nil, codedError(err)
			}
			models, err := st.Usage()
			if err != nil {
				return nil, codedError(err)
			}
			ctx, cancel := timeoutCtx(10 * time.Second)
			defer cancel()
			usage, quota, err := opfs.Estimate(ctx)
			if err != nil {
				return nil, codedError(err)
			}
			return map[string]any{"usage": float64(usage), "quota": float64(quota), "models": float64(models)}, nil
		})
	})
	registerAPI("cancel", func(_ *engine, args []safejs.Value) any {
		id, err := argString(args, 0)
		if err != nil {
			return false
		}
		return theHost.cancel(id)
	})
	registerAPI("configure", func(_ *engine, args []safejs.Value) any {
		return webjs.Promise(func() (any, error) {
			var c struct {
				ShardSize int64 `json:"shardSize"`
				Retries   int   `json:"retries"`
				BackoffMs int   `json:"backoffMs"`
			}
			if err := argJSON(args, 0, &c); err != nil {
				return nil, err
			}
			return nil, theHost.configure(store.Options{ShardSize: c.ShardSize, Retries: c.Retries,
				Backoff: time.Duration(c.BackoffMs) * time.Millisecond})
		})
	})
}

// stagingDir is the OPFS folder where extension pages write files to import.
const stagingDir = "import-staging/"

// importStaged converts the staged GGUF at path and removes it, whatever
// the outcome (an import cannot resume).
func importStaged(id, path, name string, progress store.ProgressFunc) (*store.Model, error) {
	if !strings.HasPrefix(path, stagingDir) || strings.Contains(path, "..") {
		return nil, &store.Error{Code: store.CodeInternal, Message: fmt.Sprintf("import path %q is not under %s", path, stagingDir)}
	}
	st, err := theHost.store()
	if err != nil {
		return nil, err
	}
	root, err := opfs.New()
	if err != nil {
		return nil, err
	}
	defer root.Remove(path)
	f, err := root.Open(path)
	if err != nil {
		return nil, &store.Error{Code: store.CodeInternal, Message: "The file to import was not found in the staging area: " + err.Error(), Err: err}
	}
	defer f.Close()
	size := int64(-1)
	if info, err := f.Stat(); err == nil {
		size = info.Size()
	}
	if name == "" {
		name = path[len(stagingDir):]
	}
	ctx, done := theHost.startJob(id)
	defer done()
	return st.Import(ctx, f, size, name, progress)
}

// progressFunc turns args[i] (a JS function, or absent) into a
// store.ProgressFunc.
func progressFunc(args []safejs.Value, i int) store.ProgressFunc {
	if len(args) <= i || args[i].Type() != safejs.TypeFunction {
		return nil
	}
	fn := args[i]
	return func(p store.Progress) {
		v, err := webjs.FromJSON(progressMsg{Progress: p, ETAms: p.ETA.Milliseconds()})
		if err == nil {
			_, _ = fn.Invoke(v)
		}
	}
}

// progressMsg is store.Progress with the ETA in milliseconds.
type progressMsg struct {
	store.Progress
	ETAms int64 `json:"eta"`
}

// argJSON decodes args[i] (a JS object) into v.
func argJSON(args []safejs.Value, i int, v any) error {
	if len(args) <= i {
		return fmt.Errorf("missing argument %d", i+1)
	}
	data, err := webjs.ToJSON(args[i])
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("argument %d: %w", i+1, err)
	}
	return nil
}

// argString returns args[i] as a string.
func argString(args []safejs.Value, i int) (string, error) {
	if len(args) <= i || args[i].Type() != safejs.TypeString {
		return "", fmt.Errorf("argument %d must be a string", i+1)
	}
	return args[i].String()
}
