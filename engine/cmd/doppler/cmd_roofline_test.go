package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRooflineWord(t *testing.T) {
	// Fixed values: kernels/roofline_fill.wgsl computes the same function,
	// so a change here must change the kernel too.
	tests := []struct{ i, want uint32 }{
		{0, rooflineWordRef(0)},
		{1, rooflineWordRef(1)},
		{0xFFFFFFFF, rooflineWordRef(0xFFFFFFFF)},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, rooflineWord(tt.i), "word %d", tt.i)
	}
	var s uint32
	for i := uint32(0); i < 1000; i++ {
		s += rooflineWord(i)
	}
	assert.Equal(t, s, rooflineChecksum(1000))
	assert.Equal(t, uint32(0), rooflineChecksum(0))
}

// rooflineWordRef spells the pattern out step by step in 64-bit arithmetic
// reduced mod 2^32, as an independent check of rooflineWord.
func rooflineWordRef(i uint32) uint32 {
	x := (uint64(i)*0x9E3779B1 + 0x7F4A7C15) % (1 << 32)
	x ^= x >> 15
	x = x * 0x85EBCA77 % (1 << 32)
	x ^= x >> 13
	return uint32(x)
}

func TestRooflineLayout(t *testing.T) {
	tests := []struct {
		name                    string
		size, maxBinding, align uint64
		wantTotal, wantBinding  uint64
	}{
		{"fits one binding", 1 << 20, 128 << 20, 256, 1 << 20, 1 << 20},
		{"split", 1 << 30, 128 << 20, 256, 1 << 30, 128 << 20},
		{"binding rounded to alignment", 1 << 30, 134217727, 256, 1 << 30, 134217472},
		{"size rounded to vec4", 1000003, 1 << 30, 256, 1000000, 1000000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			total, binding := rooflineLayout(tt.size, tt.maxBinding, tt.align)
			assert.Equal(t, tt.wantTotal, total)
			assert.Equal(t, tt.wantBinding, binding)
		})
	}
}

func TestRooflineWorkgroups(t *testing.T) {
	assert.Equal(t, uint32(1), rooflineWorkgroups(1, 65535))
	assert.Equal(t, uint32(16), rooflineWorkgroups(1<<16, 65535))
	assert.Equal(t, uint32(8192), rooflineWorkgroups(1<<26, 65535))
	assert.Equal(t, uint32(100), rooflineWorkgroups(1<<26, 100))
}

func TestRooflineCandidates(t *testing.T) {
	assert.Equal(t, []uint32{2048, 8192, 32768}, rooflineCandidates(8192, 65535))
	assert.Equal(t, []uint32{2048, 8192, 10000}, rooflineCandidates(8192, 10000))
	assert.Equal(t, []uint32{1, 4}, rooflineCandidates(1, 65535))
	assert.Equal(t, []uint32{1, 2, 8}, rooflineCandidates(2, 65535))
}

func TestRooflineUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--size", "100"}, "--size must be at least 4096"},
		{[]string{"--iters", "0"}, "--iters and --reps must be at least 1"},
		{[]string{"--binding-size", "16"}, "--binding-size must be 0 or at least 4096"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := runMain(append([]string{"roofline"}, tt.args...), &stdout, &stderr)
		require.Equal(t, 2, code, "args %v", tt.args)
		assert.Contains(t, stderr.String(), tt.want)
	}
}
