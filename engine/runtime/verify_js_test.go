//go:build js && wasm

package runtime

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/gpuops"
	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/engine/ref"
)

func TestVerify(t *testing.T) {
	src := openStories(t)
	res, err := Verify(testCtx(t), src, storiesPrompt, VerifyOptions{Precision: "f32", Device: sharedDevice(t)})
	require.NoError(t, err)
	assert.Nil(t, res.FirstDivergence)
	ops := map[string]int{}
	layers := map[int]bool{}
	for _, o := range res.Ops {
		ops[o.Op]++
		layers[o.Layer] = true
		assert.True(t, o.OK, "%+v", o)
	}
	// stories260K: 5 blocks of 2 norms, 7 matmuls, 2 ropes, attention, glu,
	// 2 adds; then embed, rows, the final norm and the LM head.
	assert.Equal(t, map[string]int{"embed": 1, "rmsnorm": 11, "matmul": 36, "rope": 10, "attention": 5, "glu": 5, "add": 10}, ops)
	for l := -1; l < 5; l++ {
		assert.True(t, layers[l], "layer %d", l)
	}
}

// A broken kernel (a wrong norm offset injected through the Fault hook) is
// found, named by op and layer.
func TestVerifyFindsBrokenKernel(t *testing.T) {
	src := openStories(t)
	res, err := Verify(testCtx(t), src, storiesPrompt, VerifyOptions{Precision: "f32", Device: sharedDevice(t), Fault: &Fault{Op: "rmsnorm", Layer: 2}})
	require.NoError(t, err)
	require.NotNil(t, res.FirstDivergence)
	assert.Equal(t, "rmsnorm", res.FirstDivergence.Op)
	assert.Equal(t, 2, res.FirstDivergence.Layer)
	assert.False(t, res.FirstDivergence.OK)
	for _, o := range res.Ops {
		if o == *res.FirstDivergence {
			break
		}
		assert.True(t, o.OK, "%+v", o)
		assert.Less(t, o.Layer, 3)
	}
}

// The plan refuses a kernel whose input was written as another dtype,
// naming the kernel and the producer; and it lists every op's kernel.
func TestPlan(t *testing.T) {
	m := loadStories(t, "f32")
	s, err := m.NewSession(1, 16)
	require.NoError(t, err)
	defer s.Close()
	p, err := s.Plan(stepLayout{B: 1, T: 1, R: 1, Sample: true})
	require.NoError(t, err)
	require.NotEmpty(t, p.Entries)
	assert.Equal(t, PlanEntry{Layer: -1, Op: "embed", Kernel: "embed/f32", DType: "f32", Precision: "f32", Weight: "token_embd.weight"}, p.Entries[0])
	assert.Equal(t, "decode", p.Phase)
	// Decode fuses the q, k and v projections, q and k's RoPE, and gate/up
	// with the GLU.
	sg := ""
	if m.Backend.ops.Subgroups {
		sg = "+subgroups"
	}
	assert.Equal(t, PlanEntry{Layer: 0, Op: "matmul×3", Kernel: "matmul_qkv/f32" + sg, DType: "f32", Precision: "f32",
		Weight: "blk.0.attn_q.weight", Weight2: "blk.0.attn_k.weight", Weight3: "blk.0.attn_v.weight"}, p.Entries[2])
	ops := map[string]int{}
	for _, e := range p.Entries {
		ops[e.Op]++
	}
	layers := m.Config.Layers
	// A decode step gathers no rows (each sequence's one row is wanted), so
	// the last block's residual add runs with the final norm.
	want := map[string]int{"embed": 1, "rmsnorm": 1, "add+rmsnorm": layers * 2, "matmul×3": layers, "rope_qk": layers,
		"matmul": 2*layers + 1, "attention": layers, "matmul+glu": layers, "argmax": 1}
	// Where the device holds them, the q/k/v and gate/up GEMVs run the
	// residual add and norm before them (all but the first block's
	// attention norm, which has no add).
	if m.Backend.ops.GemvNormFits(m.Config.Hidden, qkvOuts(m), gpuops.QKVStorage) {
		want["add+rmsnorm"] -= layers - 1
		want["matmul×3"] -= layers - 1
		want["add+rmsnorm+matmul×3"] = layers - 1
	}
	if m.Backend.ops.GemvNormFits(m.Config.Hidden, m.Config.FFN, gpuops.GLUStorage) {
		want["add+rmsnorm"] -= layers
		want["matmul+glu"] -= layers
		want["add+rmsnorm+matmul+glu"] = layers
	}
	// Decode attention rotates q and k itself (stories has no q/k norms)
	// where the device binds the fused kernel's buffers.
	if m.Backend.fusesRope(m.Backend.attnKernel()) {
		want["rope_qk"] -= layers
		want["attention"] -= layers
		want["rope+attention"] = layers
	}
	for op, n := range want {
		if n == 0 {
			delete(want, op)
		}
	}
	assert.Equal(t, want, ops)
	assert.Equal(t, "argmax", p.Entries[len(p.Entries)-1].Op)
	assert.Contains(t, p.String(), "matmul/f32")
	for _, e := range p.Entries {
		assert.NotEmpty(t, e.Kernel)
		assert.Equal(t, "f32", e.Precision)
	}

	be := m.Backend
	rec := be.rec
	defer func() { be.rec = rec }()
	be.rec = newRecording(be, nil)
	defer be.rec.release()
	w, err := be.Weight(model.TensorInfo{Name: "blk.0.attn_q.weight", DType: dtype.F32, Shape: []int64{4, 4}}, make([]byte, 64))
	require.NoError(t, err)
	x := be.Floats(make([]float32, 4), 1, 4)
	bad := be.Reshape(x, 4)
	assert.PanicsWithError(t, "plan: kernel embed reads its ids as i32, but constant wrote it as f32", func() { be.Embed(w, bad) })
	ids := be.Ints([]int32{0}, 1)
	assert.PanicsWithError(t, "plan: kernel matmul/f32 reads its x as f32, but input ids wrote it as i32", func() { be.MatMul(ids, w) })
	var _ arch.Tensor = x
}

// Residual adds followed by a norm are fused into one rmsnorm_add pass in
// recorded graphs; the result is what separate ops give.
func TestAddNormFusion(t *testing.T) {
	m := loadStories(t, "f32")
	s, err := m.NewSession(1, 16)
	require.NoError(t, err)
	defer s.Close()
	p, err := s.Plan(stepLayout{B: 1, T: 5, R: 1, All: true})
	require.NoError(t, err)
	ops := map[string]int{}
	for _, e := range p.Entries {
		ops[e.Op]++
	}
	// Every add is followed by a norm: 5 blocks × 2, the last one by the
	// output norm (all rows wanted, no row gather in between).
	assert.Equal(t, 10, ops["add+rmsnorm"])
	assert.Zero(t, ops["add"])
	assert.Equal(t, 1, ops["rmsnorm"], "only the first block's attention norm stands alone")
	got, err := s.Logits(testCtx(t), 0, storiesPrompt, true)
	require.NoError(t, err)
	be := ref.New()
	cm, err := arch.Load(openStories(t), be)
	require.NoError(t, err)
	want, err := arch.NewRunner(cm, be, 1, 8).Feed([]int{0}, [][]int32{storiesPrompt}, true)
	require.NoError(t, err)
	for i := range want {
		for j := range want[i] {
			require.InDelta(t, want[i][j], got[i][j], 1e-4, "position %d", i)
		}
	}
}
