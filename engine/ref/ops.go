package ref

import (
	"fmt"
	"math"
	"slices"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/model"
)

func (*Backend) Embed(table, ids arch.Tensor) arch.Tensor {
	tb, id := f32(table), i32(ids)
	hidden, vocab := tb.shape[0], tb.shape[1]
	out := &Tensor{shape: []int{len(id), hidden}, f: make([]float32, len(id)*hidden)}
	for r, tok := range id {
		if tok < 0 || int(tok) >= vocab {
			panic(fmt.Sprintf("ref: token id %d outside the vocabulary of %d", tok, vocab))
		}
		copy(out.f[r*hidden:(r+1)*hidden], tb.f[int(tok)*hidden:])
	}
	return out
}

func (*Backend) Scale(x arch.Tensor, s float32) arch.Tensor {
	a := f32(x)
	out := like(a)
	for i, v := range a.f {
		out.f[i] = v * s
	}
	return out
}

func (*Backend) RMSNorm(x, w arch.Tensor, eps float32) arch.Tensor {
	a, g := f32(x), f32(w)
	rows, n := last(a)
	if len(g.f) != n {
		panic(fmt.Sprintf("ref: rms_norm weight of %d for rows of %d", len(g.f), n))
	}
	out := like(a)
	for r := 0; r < rows; r++ {
		row := a.f[r*n : (r+1)*n]
		var ss float64
		for _, v := range row {
			ss += float64(v) * float64(v)
		}
		inv := float32(1 / math.Sqrt(ss/float64(n)+float64(eps)))
		o := out.f[r*n : (r+1)*n]
		for i, v := range row {
			o[i] = v * inv * g.f[i]
		}
	}
	return out
}

func (be *Backend) MatMul(x, w arch.Tensor) arch.Tensor {
	a, m := f32(x), f32(w)
	rows, in := last(a)
	if len(m.shape) != 2 || m.shape[0] != in {
		panic(fmt.Sprintf("ref: matmul of rows of %d by weight %v", in, m.shape))
	}
	out := m.shape[1]
	shape := slices.Clone(a.shape)
	shape[len(shape)-1] = out
	res := &Tensor{shape: shape, f: make([]float32, rows*out)}
	matmul(res.f, be.activations(a.f, in, m.dtype), m.f, rows, in, out)
	return res
}

// matmul computes dst[r][o] = Σ_i x[r][i]·w[o][i] with w stored row per output.
func matmul(dst, x, w []float32, rows, in, out int) {
	parallel(out, rows*in, func(lo, hi int) {
		for o := lo; o < hi; o++ {
			wr := w[o*in : (o+1)*in]
			for r := 0; r < rows; r++ {
				dst[r*out+o] = dot(x[r*in:(r+1)*in], wr)
			}
		}
	})
}

func (*Backend) Reshape(x arch.Tensor, shape ...int) arch.Tensor {
	a := f32(x)
	mustNumel(len(a.f), shape)
	return &Tensor{shape: slices.Clone(shape), f: a.f}
}

func (*Backend) Rope(x, pos arch.Tensor, p arch.RopeParams) arch.Tensor {
	a, ps := f32(x), i32(pos)
	if len(a.shape) != 3 || a.shape[0] != len(ps) {
		panic(fmt.Sprintf("ref: rope of %v at %d positions", a.shape, len(ps)))
	}
	rows, heads, hd := a.shape[0], a.shape[1], a.shape[2]
	dim := p.Dim
	if dim == 0 {
		dim = hd
	}
	var factors []float32
	if p.Factors != nil {
		factors = f32(p.Factors).f
	}
	out := &Tensor{shape: slices.Clone(a.shape), f: slices.Clone(a.f)}
	cos, sin := make([]float32, dim/2), make([]float32, dim/2)
	for r := 0; r < rows; r++ {
		for i := range dim / 2 {
			theta := float64(ps[r]) * math.Pow(p.Theta, -float64(2*i)/float64(dim))
			if factors != nil {
				theta /= float64(factors[i])
			}
			cos[i], sin[i] = float32(math.Cos(theta)), float32(math.Sin(theta))
		}
		for h := 0; h < heads; h++ {
			v := out.f[(r*heads+h)*hd : (r*heads+h+1)*hd]
			for i := range dim / 2 {
				// normal: adjacent pairs (2i, 2i+1); neox: halves (i, i+dim/2).
				j, k := 2*i, 2*i+1
				if p.Style == model.RopeNeoX {
					j, k = i, i+dim/2
				}
				x0, x1 := v[j], v[k]
				v[j] = x0*cos[i] - x1*sin[i]
				v[k] = x0*sin[i] + x1*cos[i]
			}
		}
	}
	return out
}

func (be *Backend) GLU(gate, up arch.Tensor, act arch.Activation) arch.Tensor {
	g, u := f32(gate), f32(up)
	sameShape(g, u)
	out := like(g)
	for i, v := range g.f {
		out.f[i] = be.activate(v, act) * u.f[i]
	}
	return out
}

func (be *Backend) activate(x float32, act arch.Activation) float32 {
	if be.llamaCpp && act == arch.GELUTanh {
		return geluF16(x)
	}
	return activate(x, act)
}

func activate(x float32, act arch.Activation) float32 {
	v := float64(x)
	switch act {
	case arch.SiLU:
		return float32(v / (1 + math.Exp(-v)))
	case arch.GELUTanh:
		return float32(0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v))))
	}
	panic(fmt.Sprintf("ref: unknown activation %q", act))
}

func (*Backend) Add(x, y arch.Tensor) arch.Tensor {
	a, b := f32(x), f32(y)
	sameShape(a, b)
	out := like(a)
	for i, v := range a.f {
		out.f[i] = v + b.f[i]
	}
	return out
}

func (*Backend) Softcap(x arch.Tensor, c float32) arch.Tensor {
	a := f32(x)
	out := like(a)
	for i, v := range a.f {
		out.f[i] = softcap(v, c)
	}
	return out
}

func softcap(v, c float32) float32 { return float32(math.Tanh(float64(v)/float64(c))) * c }

func (*Backend) Rows(x, idx arch.Tensor) arch.Tensor {
	a, id := f32(x), i32(idx)
	rows, n := last(a)
	out := &Tensor{shape: []int{len(id), n}, f: make([]float32, len(id)*n)}
	for j, r := range id {
		if r < 0 || int(r) >= rows {
			panic(fmt.Sprintf("ref: row %d of %d", r, rows))
		}
		copy(out.f[j*n:(j+1)*n], a.f[int(r)*n:])
	}
	return out
}

func sameShape(a, b *Tensor) {
	if !slices.Equal(a.shape, b.shape) {
		panic(fmt.Sprintf("ref: shapes %v and %v differ", a.shape, b.shape))
	}
}
