//go:build e2e

package e2e

import (
	"fmt"
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
	gs.cutAt = int64(len(data)) * 45 / 100
	srv := Serve(t, gs)

	b := Start(t, Options{})
	p := openClient(t, b)
	configureStore(t, b, shardMiB)
	done := request(t, b, p, fmt.Sprintf(`{type: 'download', id: 'd1', url: %q, modelId: 'synth-gemma3'}`, srv.URL+"/model.gguf"),
		"done", "error")
	require.Equal(t, "done", done.Type, "download failed: %s %s", done.Code, done.Message)

	reqs := gs.served()
	t.Logf("served %+v", reqs)
	require.GreaterOrEqual(t, len(reqs), 2, "the drop forces a second request: %+v", reqs)
	assert.Equal(t, gs.cutAt, reqs[0].Bytes, "the first response was cut")
	resumeAt := rangeStart(t, reqs[1].Range)
	assert.Greater(t, resumeAt, int64(0), "the second request resumes with a Range: %+v", reqs)
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

	// The server stalls mid-file; wait until the worker has committed shards.
	select {
	case <-gs.stalled:
	case <-time.After(40 * time.Second):
		t.Fatal("the download never reached the stall point")
	}
	var committed int64
	require.Eventually(t, func() bool {
		if m := findModel(listModels(t, b, p), "synth-gemma3"); m != nil {
			committed = m.Downloaded
		}
		return committed >= 2*shardMiB
	}, 30*time.Second, 200*time.Millisecond, "shards committed before the stop")

	// Kill the worker the way the browser does, then let the server go.
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
