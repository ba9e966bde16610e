package gpuops

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/doppler-engine/doppler/kernels"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWGSLStructLayout(t *testing.T) {
	type p struct {
		A uint32     `wgsl:"a"`
		B float32    `wgsl:"b"`
		V [4]float32 `wgsl:"v"`
		C int32      `wgsl:"c"`
	}
	src, err := WGSLStruct("Params", p{})
	require.NoError(t, err)
	assert.Equal(t, "struct Params { // 48 bytes\n    a: u32, // @0\n    b: f32, // @4\n    v: vec4<f32>, // @16\n    c: i32, // @32\n}\n", src)
	b, err := Uniform(p{A: 7, B: 1.5, V: [4]float32{1, 2, 3, 4}, C: -2})
	require.NoError(t, err)
	require.Len(t, b, 48)
	assert.Equal(t, uint32(7), binary.LittleEndian.Uint32(b[0:]))
	assert.Equal(t, float32(1.5), math.Float32frombits(binary.LittleEndian.Uint32(b[4:])))
	assert.Equal(t, float32(3), math.Float32frombits(binary.LittleEndian.Uint32(b[24:])))
	assert.Equal(t, int32(-2), int32(binary.LittleEndian.Uint32(b[32:])))

	// An embedded struct's members come in its place.
	type ext struct {
		p
		D uint32 `wgsl:"d"`
	}
	src, err = WGSLStruct("Params", ext{})
	require.NoError(t, err)
	assert.Contains(t, src, "    c: i32, // @32\n    d: u32, // @36\n}")
	b, err = Uniform(ext{p: p{V: [4]float32{0, 0, 9, 0}}, D: 5})
	require.NoError(t, err)
	assert.Equal(t, float32(9), math.Float32frombits(binary.LittleEndian.Uint32(b[24:])))
	assert.Equal(t, uint32(5), binary.LittleEndian.Uint32(b[36:]))

	_, err = WGSLStruct("P", struct{ X uint64 }{})
	assert.Error(t, err)
	_, err = WGSLStruct("P", struct {
		X uint32
	}{})
	assert.ErrorContains(t, err, "no wgsl tag")
}

// TestKernelParamsMatch checks that every params member a kernel reads
// (P.name) is declared by its Go struct, so a renamed field cannot slip by.
func TestKernelParamsMatch(t *testing.T) {
	for name, params := range map[string]any{
		"embed": embedParams{}, "matmul": matmulParams{}, "matmul_tiled": tiledParams{}, "matmul_tiled_q8": tiledParams{}, "matmul_splitk": tiledParams{}, "quantize_q8": quantParams{}, "matmul_glu": matmulGLUParams{}, "matmul_qkv": matmulQKVParams{}, "rmsnorm": normParams{}, "rmsnorm_add": normParams{}, "rmsnorm_add_pre": normParams{},
		"rope": ropeParams{}, "rope_qk": ropeQKParams{}, "attention_kv_append": kvAppendParams{}, "attention": attnParams{},
		"attention_prefill": attnPrefillParams{}, "attention_block": attnPrefillParams{}, "attention_combine": combineParams{}, "attention_combine_rows": combineParams{}, "eltwise_add": eltParams{}, "eltwise_glu": eltParams{},
		"eltwise_scale": eltParams{}, "eltwise_softcap": eltParams{}, "eltwise_rows": rowsParams{},
		"argmax": argmaxParams{}, "argmax_final": argmaxParams{}, "sample_prep": samplePassParams{}, "sample": samplePassParams{},
		"moe_route": moeRouteParams{}, "moe_matmul": moeMatmulParams{}, "moe_combine": moeCombineParams{},
	} {
		src := kernels.MustSource(name)
		decl, err := WGSLStruct("Params", params)
		require.NoError(t, err)
		for _, m := range paramRefs(src) {
			assert.Contains(t, decl, "    "+m+": ", "%s reads P.%s", name, m)
		}
	}
}

// The libraries (and kernels past TestKernelParamsMatch's list) read the
// params of each kernel that includes them.
func TestLibParams(t *testing.T) {
	for lib, structs := range map[string][]any{
		"gemv_norm": {matmulGLUParams{}, matmulQKVParams{}}, "attention_range": {attnParams{}, attnRopeParams{}},
		"attention_decode": {attnParams{}}, "attention_decode_rope": {attnRopeParams{}}, "matmul_tile": {tiledParams{}},
		"attention_prompt": {attnPrefillParams{}}, "glu_act": {eltParams{}, matmulGLUParams{}, tiledParams{}},
	} {
		src := kernels.MustSource(lib)
		for _, params := range structs {
			decl, err := WGSLStruct("Params", params)
			require.NoError(t, err)
			for _, m := range paramRefs(src) {
				assert.Contains(t, decl, "    "+m+": ", "%s reads P.%s", lib, m)
			}
		}
	}
}

// paramRefs lists the identifiers following "P." in src.
func paramRefs(src string) []string {
	var out []string
	for i := 0; i+2 < len(src); i++ {
		if src[i] != 'P' || src[i+1] != '.' || (i > 0 && isIdent(src[i-1])) {
			continue
		}
		j := i + 2
		for j < len(src) && isIdent(src[j]) {
			j++
		}
		out = append(out, src[i+2:j])
	}
	return out
}

func isIdent(b byte) bool {
	return b == '_' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

func TestSplitRows(t *testing.T) {
	for _, tc := range []struct {
		offset             uint64
		rows               int
		rowBytes, max, buf uint64
	}{
		{0, 10, 100, 1 << 20, 1000},
		{6, 29, 34, 1024, 6 + 29*34},
		{0, 41, 514, 1024, 41 * 514},
		{256, 7, 288, 600, 256 + 7*288 + 10},
	} {
		spans, err := splitRows(tc.offset, tc.rows, tc.rowBytes, tc.max, 256, tc.buf)
		require.NoError(t, err)
		next := 0
		for _, s := range spans {
			assert.Equal(t, next, s.rowStart)
			assert.Zero(t, s.bindOffset%256)
			assert.Zero(t, s.bindSize%4)
			assert.LessOrEqual(t, s.bindSize, tc.max)
			assert.LessOrEqual(t, s.bindOffset+s.bindSize, (tc.buf+3)&^3)
			assert.Equal(t, tc.offset+uint64(s.rowStart)*tc.rowBytes, s.bindOffset+s.wbase)
			assert.LessOrEqual(t, s.wbase+uint64(s.rows)*tc.rowBytes, s.bindSize)
			next += s.rows
		}
		assert.Equal(t, tc.rows, next)
	}
	_, err := splitRows(0, 3, 2000, 1024, 256, 6000)
	assert.ErrorContains(t, err, "does not fit")
}
