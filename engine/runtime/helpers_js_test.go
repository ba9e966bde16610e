//go:build js && wasm

package runtime

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/gpu"
	"github.com/doppler-engine/doppler/engine/internal/refdata"
	"github.com/doppler-engine/doppler/engine/model"
)

var (
	devOnce sync.Once
	testDev *gpu.Device
	devErr  error
)

// sharedDevice opens one device for the package's tests (lavapipe starts slowly).
func sharedDevice(t *testing.T) *gpu.Device {
	t.Helper()
	devOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		testDev, devErr = gpu.Open(ctx, gpu.Options{})
	})
	require.NoError(t, devErr, "run js/wasm tests through build/wasm-exec (Node + Dawn)")
	return testDev
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func openStories(t *testing.T) model.Source {
	p, err := refdata.Stories260K()
	src, err := model.Open(refdata.Must(t, p, err))
	require.NoError(t, err)
	t.Cleanup(func() { src.Close() })
	return src
}

func loadStories(t *testing.T, prec string) *Model {
	t.Helper()
	m, err := Load(testCtx(t), openStories(t), LoadOptions{Precision: prec, Device: sharedDevice(t)})
	require.NoError(t, err)
	return m
}

// From ../shared/models/README.md: llama.cpp's greedy run of stories260K.
var (
	storiesPrompt = []int32{1, 403, 407, 261, 378}
	storiesGreedy = []int32{432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394}
)

// runtimeYield lets JS callbacks (promise resolutions) run.
func runtimeYield() { time.Sleep(10 * time.Millisecond) }
