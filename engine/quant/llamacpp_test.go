package quant

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/stretchr/testify/require"
)

// Golden files written by llama.cpp itself (testdata/llamacpp/gen.sh runs
// its reference quantizers and dequantizers from libggml-base.so on
// input.f32: nine 256-value datasets, from gaussian to all-zero, tiny, huge
// and sparse).

func readGolden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "llamacpp", name))
	require.NoError(t, err)
	return b
}

func floatsLE(b []byte) []float32 {
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

var goldenTypes = []struct {
	file string
	t    dtype.DType
}{
	{"q4_0", dtype.Q4_0}, {"q4_1", dtype.Q4_1}, {"q5_0", dtype.Q5_0}, {"q5_1", dtype.Q5_1},
	{"q8_0", dtype.Q8_0}, {"q2_K", dtype.Q2_K}, {"q3_K", dtype.Q3_K}, {"q4_K", dtype.Q4_K},
	{"q5_K", dtype.Q5_K}, {"q6_K", dtype.Q6_K}, {"q8_K", dtype.Q8_K},
}

// Our decoder must read llama.cpp's bytes into exactly llama.cpp's floats.
func TestDequantizeMatchesLlamaCpp(t *testing.T) {
	n := len(readGolden(t, "input.f32")) / 4
	for _, g := range goldenTypes {
		t.Run(g.file, func(t *testing.T) {
			want := floatsLE(readGolden(t, g.file+".deq"))
			got, err := ToFloat32(g.t, readGolden(t, g.file+".q"), n)
			require.NoError(t, err)
			for i := range want {
				require.Equal(t, math.Float32bits(want[i]), math.Float32bits(got[i]), "element %d: want %g got %g", i, want[i], got[i])
			}
		})
	}
}

// Our encoders must write llama.cpp's reference bytes.
func TestQuantizeMatchesLlamaCpp(t *testing.T) {
	x := floatsLE(readGolden(t, "input.f32"))
	files := []struct {
		file string
		t    dtype.DType
	}{{"f16", dtype.F16}, {"bf16", dtype.BF16}}
	for _, g := range goldenTypes {
		if CanQuantize(g.t) {
			files = append(files, g)
		}
	}
	for _, g := range files {
		t.Run(g.file, func(t *testing.T) {
			want := readGolden(t, g.file+".q")
			got, err := Quantize(g.t, x)
			require.NoError(t, err)
			require.Len(t, got, len(want))
			ts := g.t.TypeSize()
			for b := 0; b < len(want)/ts; b++ {
				require.Equal(t, want[b*ts:(b+1)*ts], got[b*ts:(b+1)*ts], "block %d (dataset %d)", b, b*g.t.BlockSize()/256)
			}
		})
	}
}

// MixTypeFor must pick, for every tensor, the type llama.cpp's own
// llama_model_quantize chose for Q4_K_M (testdata/llamacpp/genmix.c: a
// 16-layer llama, an 18-layer tied-embedding model with 320-wide rows that
// force fallbacks, stories260K's 64/172 widths (fallbacks down to F16),
// and a 32-layer 8-expert MoE).
func TestMixTypeMatchesLlamaCpp(t *testing.T) {
	for _, name := range []string{"llama16", "tied18", "small5", "moe8"} {
		t.Run(name, func(t *testing.T) {
			lines := strings.Split(strings.TrimSpace(string(readGolden(t, "mix_"+name+".txt"))), "\n")
			var hidden, layers, heads, kv, ffn, vocab, experts, tied int
			_, err := fmt.Sscanf(lines[0], "# llama_model_quantize Q4_K_M: hidden %d layers %d heads %d/%d ffn %d vocab %d experts %d tied %d",
				&hidden, &layers, &heads, &kv, &ffn, &vocab, &experts, &tied)
			require.NoError(t, err)
			m := MixModel{Layers: layers, Experts: experts, TiedEmbeddings: tied == 1}
			require.Greater(t, len(lines), layers*8)
			for _, line := range lines[1:] {
				f := strings.Fields(line)
				want, err := dtype.Parse(f[1])
				require.NoError(t, err, line)
				var shape []int64
				for _, s := range f[2:] {
					d, err := strconv.ParseInt(s, 10, 64)
					require.NoError(t, err)
					shape = append(shape, d)
				}
				got, err := MixTypeFor("q4_k_m", f[0], shape, m)
				require.NoError(t, err, line)
				require.Equal(t, want, got, line)
			}
		})
	}
}
