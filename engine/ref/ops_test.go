package ref

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/model"
)

func randFloats(r *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(r.NormFloat64())
	}
	return out
}

func vals(t arch.Tensor) []float32 { return t.(*Tensor).f }

func TestMatMul(t *testing.T) {
	be := New()
	r := rand.New(rand.NewPCG(1, 2))
	for _, sh := range []struct{ rows, in, out int }{{1, 1, 1}, {1, 7, 13}, {3, 5, 2}, {17, 64, 33}, {2, 256, 4099}} {
		x, w := randFloats(r, sh.rows*sh.in), randFloats(r, sh.in*sh.out)
		got := vals(be.MatMul(be.Floats(x, sh.rows, sh.in), be.Floats(w, sh.out, sh.in).(*Tensor).reshapeWeight(sh.in, sh.out)))
		for i := 0; i < sh.rows; i++ {
			for o := 0; o < sh.out; o++ {
				var want float64
				for k := 0; k < sh.in; k++ {
					want += float64(x[i*sh.in+k]) * float64(w[o*sh.in+k])
				}
				require.InDelta(t, want, got[i*sh.out+o], 1e-4*math.Sqrt(float64(sh.in)), "%v [%d,%d]", sh, i, o)
			}
		}
	}
}

// reshapeWeight gives a weight ggml's {in, out} shape.
func (t *Tensor) reshapeWeight(in, out int) *Tensor { return &Tensor{shape: []int{in, out}, f: t.f} }

func TestElementwise(t *testing.T) {
	be := New()
	x := be.Floats([]float32{-2, -0.5, 0, 1, 3}, 5)
	y := be.Floats([]float32{1, 2, 3, 4, 5}, 5)
	gelu := func(v float64) float64 { return 0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v))) }
	silu := func(v float64) float64 { return v / (1 + math.Exp(-v)) }
	tests := []struct {
		name string
		got  arch.Tensor
		want func(i int, a, b float64) float64
	}{
		{"add", be.Add(x, y), func(_ int, a, b float64) float64 { return a + b }},
		{"scale", be.Scale(x, 2.5), func(_ int, a, _ float64) float64 { return 2.5 * a }},
		{"softcap", be.Softcap(x, 2), func(_ int, a, _ float64) float64 { return math.Tanh(a/2) * 2 }},
		{"swiglu", be.GLU(x, y, arch.SiLU), func(_ int, a, b float64) float64 { return silu(a) * b }},
		{"geglu", be.GLU(x, y, arch.GELUTanh), func(_ int, a, b float64) float64 { return gelu(a) * b }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, v := range vals(tt.got) {
				assert.InDelta(t, tt.want(i, float64(vals(x)[i]), float64(vals(y)[i])), v, 1e-6)
			}
		})
	}
}

func TestRMSNorm(t *testing.T) {
	be := New()
	// Per-head norm: [rows=2, heads=2, dim=3] with one weight per dim.
	x := be.Floats([]float32{1, 2, 3, 0, 0, 0, -1, 1, -1, 4, 0, 0}, 2, 2, 3)
	w := be.Floats([]float32{1, 2, 0.5}, 3)
	got := vals(be.RMSNorm(x, w, 1e-9))
	want := []float32{
		1 / f(14.0/3), 4 / f(14.0/3), 1.5 / f(14.0/3),
		0, 0, 0,
		-1, 2, -0.5,
		4 / f(16.0/3), 0, 0,
	}
	assert.InDeltaSlice(t, want, got, 1e-6)
	assert.Panics(t, func() { be.RMSNorm(x, be.Floats([]float32{1, 2}, 2), 0) })
}

func f(v float64) float32 { return float32(math.Sqrt(v)) }

func TestRope(t *testing.T) {
	be := New()
	r := rand.New(rand.NewPCG(3, 4))
	const rows, heads, hd = 3, 2, 8
	x := randFloats(r, rows*heads*hd)
	pos := be.Ints([]int32{0, 5, 1000}, rows)
	in := be.Floats(x, rows, heads, hd)
	for _, tt := range []struct {
		name  string
		style model.RopeStyle
		dim   int
	}{{"normal", model.RopeNormal, 8}, {"neox", model.RopeNeoX, 8}, {"normal partial", model.RopeNormal, 4}, {"neox partial", model.RopeNeoX, 4}} {
		t.Run(tt.name, func(t *testing.T) {
			got := vals(be.Rope(in, pos, arch.RopeParams{Style: tt.style, Dim: tt.dim, Theta: 10000}))
			for row := 0; row < rows; row++ {
				p := []float64{0, 5, 1000}[row]
				for h := 0; h < heads; h++ {
					o := (row*heads + h) * hd
					for i := 0; i < tt.dim/2; i++ {
						j, k := 2*i, 2*i+1
						if tt.style == model.RopeNeoX {
							j, k = i, i+tt.dim/2
						}
						th := p * math.Pow(10000, -float64(2*i)/float64(tt.dim))
						c, s := math.Cos(th), math.Sin(th)
						assert.InDelta(t, float64(x[o+j])*c-float64(x[o+k])*s, got[o+j], 1e-5)
						assert.InDelta(t, float64(x[o+j])*s+float64(x[o+k])*c, got[o+k], 1e-5)
					}
					for d := tt.dim; d < hd; d++ {
						assert.Equal(t, x[o+d], got[o+d], "dims past rope_dim pass through")
					}
				}
			}
		})
	}
	// Factors divide the angle: factor 2 at position 10 equals no factor at 5.
	f2 := be.Floats([]float32{2, 2, 2, 2}, 4)
	a := vals(be.Rope(in, be.Ints([]int32{10, 10, 10}, 3), arch.RopeParams{Style: model.RopeNeoX, Dim: 8, Theta: 100, Factors: f2}))
	b := vals(be.Rope(in, be.Ints([]int32{5, 5, 5}, 3), arch.RopeParams{Style: model.RopeNeoX, Dim: 8, Theta: 100}))
	assert.InDeltaSlice(t, b, a, 1e-5)
}

// naiveAttention is the textbook formula for one sequence: every query row
// at position p sees keys at positions ≤ p (and > p-window).
func naiveAttention(q, k, v []float32, pos []int, heads, kvHeads, hd int, p arch.AttnParams) []float32 {
	n := len(pos)
	out := make([]float32, n*heads*hd)
	for i := 0; i < n; i++ {
		for h := 0; h < heads; h++ {
			kh := h / (heads / kvHeads)
			var w []float64
			var idx []int
			for j := 0; j < n; j++ {
				if pos[j] > pos[i] || (p.Window > 0 && pos[i]-pos[j] >= p.Window) {
					continue
				}
				var s float64
				for d := 0; d < hd; d++ {
					s += float64(q[(i*heads+h)*hd+d]) * float64(k[(j*kvHeads+kh)*hd+d])
				}
				s *= float64(p.Scale)
				if p.Softcap > 0 {
					s = math.Tanh(s/float64(p.Softcap)) * float64(p.Softcap)
				}
				w = append(w, s)
				idx = append(idx, j)
			}
			mx := math.Inf(-1)
			for _, s := range w {
				mx = math.Max(mx, s)
			}
			var sum float64
			for a := range w {
				w[a] = math.Exp(w[a] - mx)
				sum += w[a]
			}
			for d := 0; d < hd; d++ {
				var acc float64
				for a, j := range idx {
					acc += w[a] / sum * float64(v[(j*kvHeads+kh)*hd+d])
				}
				out[(i*heads+h)*hd+d] = float32(acc)
			}
		}
	}
	return out
}

// Attention over two sequences in one batch (slots 1 and 0 of a 3-slot
// cache), prefilled then decoded one token at a time, equals the textbook
// formula per sequence, for GQA, windows and softcaps.
// llama.cpp's flash-attention emulation (f16 q, cache and accumulator)
// stays within f16 rounding of the formula.
func TestAttention(t *testing.T) {
	for _, tt := range []struct {
		name string
		be   func() *Backend
		tol  float64
	}{{"f32", New, 1e-5}, {"llama.cpp flash attention f16", NewLlamaCppDefaults, 5e-3}} {
		t.Run(tt.name, func(t *testing.T) { testAttention(t, tt.be, tt.tol) })
	}
}

func testAttention(t *testing.T, newBackend func() *Backend, tol float64) {
	const heads, kvHeads, hd, T, decode = 4, 2, 8, 5, 3
	for _, p := range []arch.AttnParams{
		{Scale: 0.35},
		{Scale: 0.35, Window: 3},
		{Scale: 0.9, Softcap: 1.5},
		{Scale: 0.35, Window: 1},
	} {
		be := newBackend()
		r := rand.New(rand.NewPCG(5, 6))
		n := T + decode
		type seq struct{ q, k, v []float32 }
		seqs := make([]seq, 2)
		for b := range seqs {
			seqs[b] = seq{randFloats(r, n*heads*hd), randFloats(r, n*kvHeads*hd), randFloats(r, n*kvHeads*hd)}
		}
		cache := be.NewKV(3, 16, kvHeads, hd)
		slots := []int32{1, 0}
		got := make([][]float32, 2)
		step := func(from, to int) {
			rows := to - from
			var q, k, v []float32
			var pos []int32
			for b := range seqs {
				q = append(q, seqs[b].q[from*heads*hd:to*heads*hd]...)
				k = append(k, seqs[b].k[from*kvHeads*hd:to*kvHeads*hd]...)
				v = append(v, seqs[b].v[from*kvHeads*hd:to*kvHeads*hd]...)
				for i := from; i < to; i++ {
					pos = append(pos, int32(i))
				}
			}
			batch := &arch.Batch{B: 2, T: rows, Pos: be.Ints(pos, 2*rows), Slots: be.Ints(slots, 2)}
			o := vals(be.Attention(be.Floats(q, 2*rows, heads, hd), be.Floats(k, 2*rows, kvHeads, hd), be.Floats(v, 2*rows, kvHeads, hd), cache, batch, p))
			for b := range got {
				got[b] = append(got[b], o[b*rows*heads*hd:(b+1)*rows*heads*hd]...)
			}
		}
		step(0, T)
		for i := T; i < n; i++ {
			step(i, i+1)
		}
		pos := make([]int, n)
		for i := range pos {
			pos[i] = i
		}
		for b := range seqs {
			want := naiveAttention(seqs[b].q, seqs[b].k, seqs[b].v, pos, heads, kvHeads, hd, p)
			assert.InDeltaSlice(t, want, got[b], tol, "params %+v sequence %d", p, b)
		}
	}
}

// MoE equals the explicit sum over the routed experts' SwiGLU FFNs.
func TestMoE(t *testing.T) {
	be := New()
	r := rand.New(rand.NewPCG(7, 8))
	const rows, hidden, ffn, experts = 3, 8, 6, 4
	x := randFloats(r, rows*hidden)
	router := randFloats(r, hidden*experts)
	gate, up, down := randFloats(r, hidden*ffn*experts), randFloats(r, hidden*ffn*experts), randFloats(r, ffn*hidden*experts)
	w := func(d []float32, shape ...int) arch.Tensor { return &Tensor{shape: shape, f: d} }
	for _, norm := range []bool{true, false} {
		got := vals(be.MoE(be.Floats(x, rows, hidden), w(router, hidden, experts), w(gate, hidden, ffn, experts), w(up, hidden, ffn, experts), w(down, ffn, hidden, experts), arch.MoEParams{Used: 2, NormTopK: norm, Act: arch.SiLU}))
		for i := 0; i < rows; i++ {
			xr := x[i*hidden : (i+1)*hidden]
			logit := make([]float64, experts)
			var sum float64
			for e := range logit {
				for d := 0; d < hidden; d++ {
					logit[e] += float64(xr[d]) * float64(router[e*hidden+d])
				}
			}
			prob := make([]float64, experts)
			for e := range prob {
				prob[e] = math.Exp(logit[e])
				sum += prob[e]
			}
			// top-2 by probability
			best, second := 0, -1
			for e := 1; e < experts; e++ {
				if prob[e] > prob[best] {
					best, second = e, best
				} else if second < 0 || prob[e] > prob[second] {
					second = e
				}
			}
			denom := sum
			if norm {
				denom = prob[best] + prob[second]
			}
			want := make([]float64, hidden)
			for _, e := range []int{best, second} {
				h := make([]float64, ffn)
				for j := range h {
					var g, u float64
					for d := 0; d < hidden; d++ {
						g += float64(xr[d]) * float64(gate[e*hidden*ffn+j*hidden+d])
						u += float64(xr[d]) * float64(up[e*hidden*ffn+j*hidden+d])
					}
					h[j] = g / (1 + math.Exp(-g)) * u
				}
				for d := range want {
					var s float64
					for j := range h {
						s += h[j] * float64(down[e*ffn*hidden+d*ffn+j])
					}
					want[d] += prob[e] / denom * s
				}
			}
			for d := range want {
				assert.InDelta(t, want[d], got[i*hidden+d], 1e-4, "row %d norm %v", i, norm)
			}
		}
	}
}

func TestRowsEmbedRead(t *testing.T) {
	be := New()
	table := &Tensor{shape: []int{2, 3}, f: []float32{1, 2, 3, 4, 5, 6}} // hidden 2, vocab 3
	e := be.Embed(table, be.Ints([]int32{2, 0, 2}, 3))
	assert.Equal(t, []int{3, 2}, e.Shape())
	assert.Equal(t, []float32{5, 6, 1, 2, 5, 6}, vals(e))
	rows := be.Rows(e, be.Ints([]int32{1}, 1))
	got, err := be.Read(rows)
	require.NoError(t, err)
	assert.Equal(t, []float32{1, 2}, got)
	assert.Panics(t, func() { be.Embed(table, be.Ints([]int32{3}, 1)) }, "id outside the vocabulary")
	assert.Equal(t, []int{1, 2, 3}, be.Reshape(e, 1, 2, 3).Shape())
}
