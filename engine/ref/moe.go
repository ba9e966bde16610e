package ref

import (
	"fmt"
	"math"

	"github.com/doppler-engine/doppler/engine/arch"
)

// MoE routes each row independently: softmax of the router logits over all
// experts, the Used largest (ties to the lower index), optionally
// renormalized to sum to 1, then Σ weight·down_e(act(gate_e x)·up_e x).
func (be *Backend) MoE(x, router, gate, up, down arch.Tensor, p arch.MoEParams) arch.Tensor {
	a, rt, g, u, d := f32(x), f32(router), f32(gate), f32(up), f32(down)
	rows, hidden := last(a)
	experts := rt.shape[1]
	ffn := g.shape[1]
	if rt.shape[0] != hidden || g.shape[0] != hidden || u.shape[0] != hidden || u.shape[1] != ffn ||
		d.shape[0] != ffn || d.shape[1] != hidden || g.shape[2] != experts || u.shape[2] != experts || d.shape[2] != experts {
		panic(fmt.Sprintf("ref: moe shapes x %v router %v gate %v up %v down %v", a.shape, rt.shape, g.shape, u.shape, d.shape))
	}
	out := like(a)
	logits := make([]float32, rows*experts)
	matmul(logits, be.activations(a.f, hidden, rt.dtype), rt.f, rows, hidden, experts)
	parallel(rows, p.Used*ffn*hidden*3, func(lo, hi int) {
		gv, uv := make([]float32, ffn), make([]float32, ffn)
		for r := lo; r < hi; r++ {
			xr := a.f[r*hidden : (r+1)*hidden]
			xg, xu := be.activations(xr, hidden, g.dtype), be.activations(xr, hidden, u.dtype)
			sel, w := route(logits[r*experts:(r+1)*experts], p.Used, p.NormTopK)
			o := out.f[r*hidden : (r+1)*hidden]
			for j, e := range sel {
				matmul(gv, xg, g.f[e*hidden*ffn:], 1, hidden, ffn)
				matmul(uv, xu, u.f[e*hidden*ffn:], 1, hidden, ffn)
				for i := range gv {
					gv[i] = be.activate(gv[i], p.Act) * uv[i]
				}
				hv := be.activations(gv, ffn, d.dtype)
				de := d.f[e*ffn*hidden:]
				for i := range o {
					o[i] += w[j] * dot(hv, de[i*ffn:(i+1)*ffn])
				}
			}
		}
	})
	return out
}

// route returns the selected experts (in descending weight) and their weights.
func route(logits []float32, used int, norm bool) ([]int, []float32) {
	maxL := math.Inf(-1)
	for _, l := range logits {
		maxL = math.Max(maxL, float64(l))
	}
	prob := make([]float64, len(logits))
	var sum float64
	for i, l := range logits {
		prob[i] = math.Exp(float64(l) - maxL)
		sum += prob[i]
	}
	sel := make([]int, 0, used)
	taken := make([]bool, len(logits))
	for range used {
		best := -1
		for i, pr := range prob {
			if !taken[i] && (best < 0 || pr > prob[best]) {
				best = i
			}
		}
		taken[best] = true
		sel = append(sel, best)
	}
	var selSum float64
	for _, e := range sel {
		selSum += prob[e]
	}
	w := make([]float32, used)
	for j, e := range sel {
		if norm {
			w[j] = float32(prob[e] / selSum)
		} else {
			w[j] = float32(prob[e] / sum)
		}
	}
	return sel, w
}
