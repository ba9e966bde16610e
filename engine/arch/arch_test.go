package arch_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/internal/refdata"
	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/engine/ref"
)

// tinyLlama is a 1-layer llama config for binder tests.
func tinyLlama(experts int) *model.Config {
	c := &model.Config{Architecture: model.ArchLlama, VocabSize: 5, Hidden: 4, Layers: 1, Heads: 2, KVHeads: 1,
		HeadDim: 2, FFN: 3, NormEps: 1e-5, RopeStyle: model.RopeNormal, RopeTheta: 10000}
	if experts > 0 {
		c.Architecture, c.Experts, c.ExpertsUsed = model.ArchMixtral, experts, 1
	}
	return c
}

func ones(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = 1
	}
	return v
}

func llamaTensors(s *memSource, moe bool, output bool) {
	s.add("token_embd.weight", ones(20), 4, 5)
	s.add("output_norm.weight", ones(4), 4)
	if output {
		s.add("output.weight", ones(20), 4, 5)
	}
	s.add("blk.0.attn_norm.weight", ones(4), 4)
	s.add("blk.0.attn_q.weight", ones(16), 4, 4)
	s.add("blk.0.attn_k.weight", ones(8), 4, 2)
	s.add("blk.0.attn_v.weight", ones(8), 4, 2)
	s.add("blk.0.attn_output.weight", ones(16), 4, 4)
	s.add("blk.0.ffn_norm.weight", ones(4), 4)
	if moe {
		s.add("blk.0.ffn_gate_inp.weight", ones(8), 4, 2)
		s.add("blk.0.ffn_gate_exps.weight", ones(24), 4, 3, 2)
		s.add("blk.0.ffn_up_exps.weight", ones(24), 4, 3, 2)
		s.add("blk.0.ffn_down_exps.weight", ones(24), 3, 4, 2)
	} else {
		s.add("blk.0.ffn_gate.weight", ones(12), 4, 3)
		s.add("blk.0.ffn_up.weight", ones(12), 4, 3)
		s.add("blk.0.ffn_down.weight", ones(12), 3, 4)
	}
}

func TestBind(t *testing.T) {
	tests := []struct {
		name    string
		experts int
		moe     bool // which tensors the file has
		output  bool
		drop    string
		wantErr string
	}{
		{name: "dense", output: true},
		{name: "tied embeddings", output: false},
		{name: "mixtral", experts: 2, moe: true, output: true},
		{name: "missing tensor", output: true, drop: "blk.0.attn_k.weight", wantErr: "blk.0.attn_k.weight"},
		{name: "dense config, expert file", moe: true, output: true, wantErr: "blk.0.ffn_gate.weight"},
		{name: "moe config, dense file", experts: 2, output: true, wantErr: "blk.0.ffn_gate_inp.weight"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newMemSource(tinyLlama(tt.experts))
			llamaTensors(s, tt.moe, tt.output)
			if tt.drop != "" {
				delete(s.data, tt.drop)
				for i, ti := range s.tensors {
					if ti.Name == tt.drop {
						s.tensors = append(s.tensors[:i], s.tensors[i+1:]...)
						break
					}
				}
			}
			be := ref.New()
			m, err := arch.Load(s, be)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, 1, s.reads["token_embd.weight"], "a tied table is read once")
			logits, err := arch.NewRunner(m, be, 1, 4).Feed([]int{0}, [][]int32{{1, 2, 3}}, true)
			require.NoError(t, err)
			assert.Len(t, logits, 3)
			assert.Len(t, logits[0], 5)
		})
	}
}

func TestLoadRejects(t *testing.T) {
	for _, tt := range []struct {
		name string
		edit func(c *model.Config)
		want string
	}{
		{"unknown architecture", func(c *model.Config) { c.Architecture = "gpt2" }, "not supported"},
		{"heads", func(c *model.Config) { c.KVHeads = 3 }, "heads"},
		{"rope dim", func(c *model.Config) { c.RopeDim = 3 }, "rope_dim"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := tinyLlama(0)
			tt.edit(c)
			s := newMemSource(c)
			llamaTensors(s, false, true)
			_, err := arch.Load(s, ref.New())
			require.ErrorContains(t, err, tt.want)
		})
	}
}

// Prefill of all tokens, token-by-token decode, and two sequences batched
// into other cache slots give the same logits (the KV cache and positions
// are right), for sliding-window Gemma 3 and MoE models.
func TestPrefillDecodeBatch(t *testing.T) {
	d, err := refdata.HFFixturesDir()
	dir := refdata.Must(t, d, err)
	ids := []int32{5, 401, 33, 250, 7, 64, 500, 12, 400, 3, 77}
	other := []int32{9, 128, 340, 21, 300, 45, 499, 6, 88, 170, 14}
	for _, name := range []string{"gemma3-f32", "mixtral-f32", "gemma2-bf16"} {
		t.Run(name, func(t *testing.T) {
			src, err := model.Open(filepath.Join(dir, name))
			require.NoError(t, err)
			defer src.Close()
			be := ref.New()
			m, err := arch.Load(src, be)
			require.NoError(t, err)

			all, err := arch.NewRunner(m, be, 1, len(ids)).Feed([]int{0}, [][]int32{ids}, true)
			require.NoError(t, err)

			// Decode: a 4-token prefill (last row only), then one token per step.
			r := arch.NewRunner(m, be, 1, len(ids))
			last, err := r.Feed([]int{0}, [][]int32{ids[:4]}, false)
			require.NoError(t, err)
			assert.InDeltaSlice(t, all[3], last[0], 1e-5)
			for i := 4; i < len(ids); i++ {
				step, err := r.Feed([]int{0}, [][]int32{{ids[i]}}, false)
				require.NoError(t, err)
				assert.InDeltaSlice(t, all[i], step[0], 1e-5, "position %d", i)
			}

			// Batch: ids in slot 2 and another sequence in slot 0, in one step.
			want, err := arch.NewRunner(m, be, 1, len(other)).Feed([]int{0}, [][]int32{other}, true)
			require.NoError(t, err)
			br := arch.NewRunner(m, be, 3, 16)
			both, err := br.Feed([]int{2, 0}, [][]int32{ids, other}, true)
			require.NoError(t, err)
			for i := range ids {
				assert.InDeltaSlice(t, all[i], both[i], 1e-5, "slot 2 position %d", i)
				assert.InDeltaSlice(t, want[i], both[len(ids)+i], 1e-5, "slot 0 position %d", i)
			}
			_, err = br.Feed([]int{2}, [][]int32{make([]int32, 6)}, false)
			assert.ErrorContains(t, err, "context overflow")
		})
	}
}
