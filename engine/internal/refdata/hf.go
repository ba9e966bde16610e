package refdata

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// HFTolerance is the fixtures' criterion for f32 forward passes: their
// logits are small (|logit| < 7) and the closest top-2 gap is 0.0018, so
// logits must match within 1e-3 with equal argmaxes.
const HFTolerance = 1e-3

// HFReference is an HF fixture's reference.json: the logits HF transformers
// computed in float32 for every position of input_ids, keyed by position
// ("0", "1", ...), and their argmaxes.
type HFReference struct {
	InputIDs []int32              `json:"input_ids"`
	Argmax   []int32              `json:"argmax_per_position"`
	Logits   map[string][]float32 `json:"logits"`
}

// ReadHFReference reads dir/reference.json and checks that it has logits
// and an argmax for every input position.
func ReadHFReference(dir string) (HFReference, error) {
	var r HFReference
	p := filepath.Join(dir, "reference.json")
	b, err := os.ReadFile(p)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("%s: %w", p, err)
	}
	if len(r.Logits) != len(r.InputIDs) || len(r.Argmax) != len(r.InputIDs) {
		return r, fmt.Errorf("%s: %d input ids but logits for %d positions and %d argmaxes", p, len(r.InputIDs), len(r.Logits), len(r.Argmax))
	}
	return r, nil
}

// MustHFReference is ReadHFReference that fails the test on error.
func MustHFReference(t testing.TB, dir string) HFReference {
	t.Helper()
	r, err := ReadHFReference(dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// HFConfig4x is the fixture holding only a transformers 4.x style
// config.json (and reference.json) for gemma3-f32's weights, with no file
// pointing at them: the pairing is stated in the fixtures' README only.
const HFConfig4x = "gemma3-f32-config4x"

// HFFixtureFolder returns a loadable folder for the fixture name under dir:
// dir/name itself, except for HFConfig4x, whose config.json is put beside
// gemma3-f32's model.safetensors (a link) in a temporary folder.
func HFFixtureFolder(t testing.TB, dir, name string) string {
	t.Helper()
	if name != HFConfig4x {
		return filepath.Join(dir, name)
	}
	tmp := t.TempDir()
	cfg, err := os.ReadFile(filepath.Join(dir, name, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "config.json"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "gemma3-f32", "model.safetensors"), filepath.Join(tmp, "model.safetensors")); err != nil {
		t.Fatal(err)
	}
	return tmp
}

// CheckHFLogits asserts that logits (one row per input position) match the
// reference within tol at every position, with the same argmaxes.
func CheckHFLogits(t testing.TB, r HFReference, logits [][]float32, tol float64) {
	t.Helper()
	require.Len(t, logits, len(r.InputIDs))
	worst := 0.0
	for i, got := range logits {
		want := r.Logits[strconv.Itoa(i)]
		require.Len(t, got, len(want), "vocabulary at position %d", i)
		for j := range want {
			worst = max(worst, math.Abs(float64(got[j]-want[j])))
		}
		assert.Equal(t, r.Argmax[i], argmax(got), "argmax at position %d", i)
	}
	assert.LessOrEqual(t, worst, tol, "max |logit - HF| over all positions")
	t.Logf("max |logit - HF| = %.2e", worst)
}

// argmax breaks ties to the first maximum, as sample.Argmax does; it is not
// imported so that this package stays free of engine packages (whose own
// tests use it).
func argmax(l []float32) int32 {
	best := 0
	for i, v := range l {
		if v > l[best] {
			best = i
		}
	}
	return int32(best)
}
