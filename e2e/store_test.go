//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/serviceworker"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The model store through the extension (issue 6): downloads that survive a
// dropped connection and a killed worker, quota and corruption errors. Each
// test serves a tiny synthetic Gemma 3 GGUF (~9 MB, f32) from 127.0.0.1 and
// stores it in 1 MiB shards.

const shardMiB = 1 << 20

var promptIDs = []int32{2, 100, 200, 300}

// rangeStart parses "bytes=N-" (0 when there is no Range).
func rangeStart(t *testing.T, h string) int64 {
	t.Helper()
	if h == "" {
		return 0
	}
	require.True(t, strings.HasPrefix(h, "bytes="), "Range %q", h)
	n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(h, "bytes="), "-"), 10, 64)
	require.NoError(t, err, "Range %q", h)
	return n
}

func TestDownloadResumesAfterDrop(t *testing.T) {
	path, data := synthGemma(t)
	want := nativeGreedy(t, path, promptIDs, 8)
	gs := newGGUFServer(data)
	// Past the first shard (the 4 MiB embedding table is one shard).
	gs.cutAt = int64(len(data)) * 60 / 100
	gs.stall = make(chan struct{})
	srv := Serve(t, gs)

	b := Start(t, Options{})
	p := openClient(t, b)
	configureStore(t, b, shardMiB)
	_, err := EvalPage[any](b, p, fmt.Sprintf(`dp.send({type: 'download', id: 'd1', url: %q, modelId: 'synth-gemma3'})`,
		srv.URL+"/model.gguf"))
	require.NoError(t, err)
	// Chromium drops what it buffered when a connection fails, so let the
	// worker consume the bytes sent so far before cutting the connection.
	committed := waitCommitted(t, b, p, gs, "synth-gemma3", shardMiB)
	close(gs.stall)
	done, err := EvalPage[protoMsg](b, p, `dp.wait('d1', ['done', 'error'], 50000)`)
	require.NoError(t, err)
	require.Equal(t, "done", done.Type, "download failed: %s %s", done.Code, done.Message)

	reqs := gs.served()
	t.Logf("served %+v", reqs)
	require.GreaterOrEqual(t, len(reqs), 2, "the drop forces a second request: %+v", reqs)
	assert.Equal(t, gs.cutAt, reqs[0].Bytes, "the first response was cut")
	resumeAt := rangeStart(t, reqs[1].Range)
	assert.GreaterOrEqual(t, resumeAt, committed, "the second request resumes after the closed shards: %+v", reqs)
	assert.LessOrEqual(t, resumeAt, gs.cutAt)
	assert.Equal(t, int64(len(data))-resumeAt, reqs[1].Bytes, "the rest of the file, once")

	m := findModel(listModels(t, b, p), "synth-gemma3")
	require.NotNil(t, m)
	assert.True(t, m.Ready)
	assert.Equal(t, int64(len(data)), m.SourceBytes)
	assert.Equal(t, "gemma3", m.Architecture)

	got := complete(t, b, "synth-gemma3", "", promptIDs, len(want), true)
	assert.Equal(t, "webgpu", got.Backend)
	assert.Equal(t, want, got.Tokens, "greedy tokens of the downloaded model equal the native CPU run of the same file")
	t.Logf("served %+v; worker load %.0f ms", reqs, got.LoadMs)
}

func TestDownloadSurvivesServiceWorkerRestart(t *testing.T) {
	path, data := synthGemma(t)
	want := nativeGreedy(t, path, promptIDs, 8)
	gs := newGGUFServer(data)
	gs.cutAt = int64(len(data)) * 55 / 100
	gs.stall = make(chan struct{})
	srv := Serve(t, gs)
	url := srv.URL + "/model.gguf"

	b := Start(t, Options{})
	p := openClient(t, b)
	configureStore(t, b, shardMiB)
	_, err := EvalPage[any](b, p, fmt.Sprintf(`dp.send({type: 'download', id: 'd1', url: %q, modelId: 'synth-gemma3'})`, url))
	require.NoError(t, err)

	committed := waitCommitted(t, b, p, gs, "synth-gemma3", 2*shardMiB)

	// Kill the worker the way the browser does, then let the server go.
	_, err = chromedp.Call(p.Ctx, serviceworker.Enable, cdp.Empty{})
	require.NoError(t, err)
	_, err = chromedp.Call(p.Ctx, serviceworker.StopAllWorkers, cdp.Empty{})
	require.NoError(t, err)
	close(gs.stall)
	_, err = EvalPage[any](b, p, `dp.wait(null, ['disconnected'], 20000)`)
	require.NoError(t, err, "the page's port closes with the worker")

	// The UI reconnects: the worker tells it the download was cut off.
	_, err = EvalPage[any](b, p, `dp.connect()`)
	require.NoError(t, err)
	restarted, err := EvalPage[protoMsg](b, p, `dp.wait('d1', ['error'], 30000)`)
	require.NoError(t, err)
	assert.Equal(t, "worker-restarted", restarted.Code)

	// The model is listed partial; asking again resumes it.
	m := findModel(listModels(t, b, p), "synth-gemma3")
	require.NotNil(t, m)
	assert.False(t, m.Ready)
	assert.GreaterOrEqual(t, m.Downloaded, committed)
	done := request(t, b, p, `{type: 'download', id: 'd2', modelId: 'synth-gemma3'}`, "done", "error")
	require.Equal(t, "done", done.Type, "resume failed: %s %s", done.Code, done.Message)

	reqs := gs.served()
	require.Len(t, reqs, 2, "one request before the stop, one to resume: %+v", reqs)
	resumeAt := rangeStart(t, reqs[1].Range)
	assert.GreaterOrEqual(t, resumeAt, committed, "no committed byte is fetched twice")
	assert.LessOrEqual(t, resumeAt, gs.cutAt)
	assert.Equal(t, int64(len(data))-resumeAt, reqs[1].Bytes)

	m = findModel(listModels(t, b, p), "synth-gemma3")
	require.NotNil(t, m)
	assert.True(t, m.Ready, "every shard verified")
	got := complete(t, b, "synth-gemma3", "", promptIDs, len(want), true)
	assert.Equal(t, want, got.Tokens)
	t.Logf("committed %d before the stop; served %+v", committed, reqs)
}

func TestDownloadCancelThenResume(t *testing.T) {
	_, data := synthGemma(t)
	gs := newGGUFServer(data)
	gs.cutAt = int64(len(data)) * 60 / 100
	gs.stall = make(chan struct{})
	srv := Serve(t, gs)

	b := Start(t, Options{})
	p := openClient(t, b)
	configureStore(t, b, shardMiB)
	_, err := EvalPage[any](b, p, fmt.Sprintf(`dp.send({type: 'download', id: 'd1', url: %q, modelId: 'synth-gemma3'})`,
		srv.URL+"/model.gguf"))
	require.NoError(t, err)
	committed := waitCommitted(t, b, p, gs, "synth-gemma3", shardMiB)
	// The cancel must not wait for the stalled server.
	_, err = EvalPage[any](b, p, `dp.send({type: 'cancel', id: 'd1'})`)
	require.NoError(t, err)
	end, err := EvalPage[protoMsg](b, p, `dp.wait('d1', ['done', 'error'], 20000)`)
	require.NoError(t, err)
	close(gs.stall)
	assert.Equal(t, "cancelled", end.Code, "%s %s", end.Type, end.Message)
	m := findModel(listModels(t, b, p), "synth-gemma3")
	require.NotNil(t, m)
	assert.False(t, m.Ready)
	assert.GreaterOrEqual(t, m.Downloaded, committed)

	done := request(t, b, p, `{type: 'download', id: 'd2', modelId: 'synth-gemma3'}`, "done", "error")
	require.Equal(t, "done", done.Type, "%s %s", done.Code, done.Message)
	reqs := gs.served()
	require.Len(t, reqs, 2, "%+v", reqs)
	assert.GreaterOrEqual(t, rangeStart(t, reqs[1].Range), committed)
	assert.True(t, findModel(listModels(t, b, p), "synth-gemma3").Ready)
}

// waitCommitted waits until the server stalled mid-file and the worker has
// committed at least min source bytes of model id; it returns that count.
func waitCommitted(t *testing.T, b *Browser, p *Page, gs *ggufServer, id string, min int64) int64 {
	t.Helper()
	select {
	case <-gs.stalled:
	case <-time.After(40 * time.Second):
		t.Fatal("the download never reached the stall point")
	}
	var committed int64
	require.Eventually(t, func() bool {
		if m := findModel(listModels(t, b, p), id); m != nil {
			committed = m.Downloaded
		}
		return committed >= min
	}, 30*time.Second, 200*time.Millisecond, "shards committed before the cut")
	return committed
}

func TestQuotaExceededIsCleanError(t *testing.T) {
	_, data := synthGemma(t)
	srv := Serve(t, newGGUFServer(data))

	b := Start(t, Options{})
	p := openClient(t, b)
	configureStore(t, b, shardMiB)
	origin := strings.TrimSuffix(b.ExtensionURL(""), "/")
	quota := float64(3 * shardMiB)
	_, err := chromedp.Call(p.Ctx, storage.OverrideQuotaForOrigin, storage.OverrideQuotaForOriginParams{Origin: origin, QuotaSize: &quota})
	require.NoError(t, err)

	msg := request(t, b, p, fmt.Sprintf(`{type: 'download', id: 'q1', url: %q, modelId: 'too-big'}`, srv.URL+"/model.gguf"),
		"done", "error")
	require.Equal(t, "error", msg.Type)
	assert.Equal(t, "quota", msg.Code, "message: %s", msg.Message)
	assert.NotEmpty(t, msg.Message)
	for _, m := range listModels(t, b, p) {
		assert.False(t, m.Ready, "nothing is listed ready: %+v", m)
	}
}

func TestCorruptShardDetected(t *testing.T) {
	_, data := synthGemma(t)
	srv := Serve(t, newGGUFServer(data))
	url := srv.URL + "/model.gguf"

	b := Start(t, Options{})
	p := openClient(t, b)
	configureStore(t, b, shardMiB)
	done := request(t, b, p, fmt.Sprintf(`{type: 'download', id: 'd1', url: %q, modelId: 'synth-gemma3'}`, url), "done", "error")
	require.Equal(t, "done", done.Type, "%s %s", done.Code, done.Message)

	// Flip one byte of the first shard in OPFS (the page shares the origin).
	_, err := EvalPage[bool](b, p, `(async () => {
		const root = await navigator.storage.getDirectory();
		const dir = await (await root.getDirectoryHandle('models')).getDirectoryHandle('synth-gemma3');
		let shard = null;
		for await (const [name, h] of dir.entries()) if (name.startsWith('shard-') && (!shard || name < shard.name)) shard = h;
		const bytes = new Uint8Array(await (await shard.getFile()).arrayBuffer());
		bytes[bytes.length >> 1] ^= 0x40;
		const w = await shard.createWritable();
		await w.write(bytes);
		await w.close();
		return true;
	})()`)
	require.NoError(t, err)

	msg := request(t, b, p, `{type: 'task', id: 't1', task: 'summarize', input: {text: 'A short page about nothing.'}, options: {model: 'synth-gemma3', maxTokens: 4}}`,
		"done", "error")
	require.Equal(t, "error", msg.Type)
	assert.Equal(t, "corrupt-model", msg.Code, "message: %s", msg.Message)
	m := findModel(listModels(t, b, p), "synth-gemma3")
	require.NotNil(t, m)
	assert.True(t, m.Corrupt)
	assert.False(t, m.Ready)
	assert.Equal(t, url, m.Source, "the listing keeps the URL to download it again")

	// Downloading it again gives a working model.
	require.Equal(t, "models", request(t, b, p, `{type: 'delete', id: 'del', modelId: 'synth-gemma3'}`, "models", "error").Type)
	again := request(t, b, p, fmt.Sprintf(`{type: 'download', id: 'd2', url: %q, modelId: 'synth-gemma3'}`, url), "done", "error")
	require.Equal(t, "done", again.Type, "%s %s", again.Code, again.Message)
	ok := request(t, b, p, `{type: 'task', id: 't2', task: 'summarize', input: {text: 'A short page about nothing.'}, options: {model: 'synth-gemma3', maxTokens: 4}}`,
		"done", "error")
	assert.Equal(t, "done", ok.Type, "%s %s", ok.Code, ok.Message)
}

// llama.cpp's greedy run of stories260K (../shared/models/README.md).
var (
	importPrompt = []int32{1, 403, 407, 261, 378}
	importGreedy = []int32{432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394}
)

// sharedModel finds a file of the shared test models: $DOPPLER_TEST_MODELS,
// else ../shared/models beside the repository (DESIGN.md's lookup).
func sharedModel(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("DOPPLER_TEST_MODELS")
	if dir == "" {
		root, err := RepoRoot()
		require.NoError(t, err)
		dir = filepath.Join(filepath.Dir(root), "shared", "models")
	}
	path := filepath.Join(dir, name)
	_, err := os.Stat(path)
	require.NoError(t, err, "the test models are missing: set DOPPLER_TEST_MODELS")
	return path
}

// The options page's file input (#import-file) imports stories260K: the
// page stages the file in OPFS, the worker converts it. The model is listed
// with its metadata, generates llama.cpp's tokens, and is still there after
// the browser restarts with the same profile.
func TestImportLocalGGUF(t *testing.T) {
	path := sharedModel(t, "stories260K.gguf")
	info, err := os.Stat(path)
	require.NoError(t, err)
	profile := t.TempDir()
	opts := Options{Flags: map[string]any{"user-data-dir": profile}}

	b := Start(t, opts)
	options := b.MustOpenPage(t, "options.html")
	ctx, cancel := context.WithTimeout(options.Ctx, 30*time.Second)
	defer cancel()
	_, err = chromedp.Run(ctx, chromedp.SetUploadFiles(chromedp.ID("import-file"), []string{path}))
	require.NoError(t, err, "options.html must have <input type=file id=import-file>")
	p := openClient(t, b)
	var m *storeModel
	require.Eventually(t, func() bool {
		for _, x := range listModels(t, b, p) {
			if x.Ready && x.SourceBytes == info.Size() {
				m = &x
				return true
			}
		}
		return false
	}, 45*time.Second, 250*time.Millisecond, "the imported model is listed ready")
	assert.Equal(t, "stories260k", m.ID, "the id is the file name, lower-cased")
	assert.Equal(t, "llama", m.Architecture)
	assert.Equal(t, "file:stories260K.gguf", m.Source)
	assert.NotEmpty(t, m.Name)
	assert.Greater(t, m.Bytes, int64(1_100_000))
	got := complete(t, b, m.ID, "", importPrompt, len(importGreedy), true)
	assert.Equal(t, importGreedy, got.Tokens, "llama.cpp's greedy tokens")
	// The staged copy is gone.
	staged, err := EvalPage[int](b, p, `(async () => {
		const root = await navigator.storage.getDirectory();
		let n = 0;
		try { for await (const _ of (await root.getDirectoryHandle('import-staging')).keys()) n++; } catch (e) {}
		return n;
	})()`)
	require.NoError(t, err)
	assert.Zero(t, staged, "the staged file is removed after the import")
	b.Close()

	b2 := Start(t, opts)
	p2 := openClient(t, b2)
	again := findModel(listModels(t, b2, p2), m.ID)
	require.NotNil(t, again, "the model survives a browser restart")
	assert.Equal(t, *m, *again)
	got2 := complete(t, b2, m.ID, "", importPrompt, 8, true)
	assert.Equal(t, importGreedy[:8], got2.Tokens)
}
