//go:build !(js && wasm)

package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The native CLI runs roofline as js/wasm under Node + Dawn (build/wasm-exec),
// like every WebGPU subcommand; the checksum the kernel reports is checked
// against the pattern's, computed here.
func TestRooflineReadsWholeBuffer(t *testing.T) {
	tests := []struct {
		name string
		args []string
		size uint64
		bind int
	}{
		{"one binding", []string{"--size", "1048576", "--iters", "3", "--reps", "2"}, 1 << 20, 1},
		// Several bindings, the last one shorter: every binding's fill base
		// and read must line up with the pattern.
		{"several bindings", []string{"--size", "1118480", "--binding-size", "262144", "--iters", "2", "--reps", "1", "--workgroups", "3"}, 1118480, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runMain(append([]string{"roofline", "--json"}, tt.args...), &stdout, &stderr)
			require.Equal(t, 0, code, "stderr: %s", stderr.String())
			var r rooflineReport
			require.NoError(t, json.Unmarshal(stdout.Bytes(), &r), "stdout: %s", stdout.String())
			assert.Equal(t, tt.size, r.BufferBytes)
			assert.Equal(t, tt.bind, r.Bindings)
			want := rooflineChecksum(tt.size / 4)
			assert.Equal(t, want, r.Checksum, "the kernel must sum every word of the buffer")
			assert.True(t, r.ChecksumOK)
			// A pass that missed the last vec4 would sum to something else.
			assert.NotEqual(t, rooflineChecksum(tt.size/4-4), r.Checksum)
			assert.Greater(t, r.GBs, 0.0)
			assert.Greater(t, r.WallGBs, 0.0)
			assert.Contains(t, []string{"timestamp", "wall"}, r.Timing)
			require.NotEmpty(t, r.Sweep)
			var sizes []uint32
			for _, pt := range r.Sweep {
				sizes = append(sizes, pt.Workgroups)
				assert.Greater(t, pt.WallGBs, 0.0)
			}
			assert.Contains(t, sizes, r.Workgroups, "the reported dispatch size is one of those timed")
			assert.NotEmpty(t, r.Device)
		})
	}
}
