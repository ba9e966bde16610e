//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// From ../shared/models/README.md: llama.cpp's greedy run of stories260K.
var (
	storiesPrompt = []int32{1, 403, 407, 261, 378}
	storiesGreedy = []int32{432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394}
)

// workerGeneration is dopplerEngine.generate's reply.
type workerGeneration struct {
	Tokens    []int32 `json:"tokens"`
	Stop      string  `json:"stop"`
	LoadMs    float64 `json:"loadMs"`
	GenMs     float64 `json:"genMs"`
	Precision string  `json:"precision"`
}

// The engine in the extension's service worker (Chromium's SwiftShader, so
// the f32 path) loads stories260K from a 127.0.0.1 server through the
// read-only HTTP file system, as a .gguf and as a converted shard folder,
// and generates llama.cpp's 32 greedy tokens (four decode steps per
// submission).
func TestServiceWorkerGeneratesStories(t *testing.T) {
	path := storiesPath(t)
	// The same model converted to a shard folder (64 KiB shards), served too.
	shards := t.TempDir()
	var conv map[string]any
	runCLI(t, &conv, "convert", path, "-o", shards, "--shard-size", "65536")
	require.Greater(t, conv["shards"], 1.0)
	mux := http.NewServeMux()
	mux.Handle("/gguf/", http.StripPrefix("/gguf/", http.FileServer(http.Dir(filepath.Dir(path)))))
	mux.Handle("/shards/", http.StripPrefix("/shards/", http.FileServer(http.Dir(shards))))
	srv := Serve(t, mux)
	b := Start(t, Options{})
	for _, tc := range []struct{ name, url string }{
		{"gguf", srv.URL + "/gguf/" + filepath.Base(path)},
		{"shard folder", srv.URL + "/shards/"},
	} {
		req := fmt.Sprintf(`{"modelURL": %q, "tokens": [1,403,407,261,378], "maxTokens": 32, "stepsPerSubmit": 4, "ignoreEOS": true}`, tc.url)
		start := time.Now()
		got := workerEval[workerGeneration](t, b, `startEngine().then(e => e.generate(`+req+`))`)
		t.Logf("%s: load %.0f ms, generate %.0f ms (%s), total %v", tc.name, got.LoadMs, got.GenMs, got.Precision, time.Since(start))
		assert.Equal(t, storiesGreedy, got.Tokens, tc.name)
		assert.Equal(t, "length", got.Stop)
		require.Equal(t, "f32", got.Precision, "SwiftShader has no shader-f16")
	}
}

// storiesPath finds stories260K.gguf as DESIGN.md's test data lookup says:
// $DOPPLER_TEST_MODELS, then ../shared/models beside the repository
// (engine/internal/refdata does the same for engine packages; e2e cannot
// import it).
func storiesPath(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("DOPPLER_TEST_MODELS")
	if dir == "" {
		root, err := RepoRoot()
		require.NoError(t, err)
		dir = filepath.Join(root, "..", "shared", "models")
	}
	path := filepath.Join(dir, "stories260K.gguf")
	_, err := os.Stat(path)
	require.NoError(t, err, "stories260K.gguf: set DOPPLER_TEST_MODELS or put it in ../shared/models")
	return path
}
