//go:build js && wasm

package runtime

import (
	"context"
	"fmt"
	"math"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/gpu"
	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/engine/ref"
)

// OpDiff compares one op's GPU output with the CPU reference's.
type OpDiff struct {
	Layer      int     `json:"layer"`
	Op         string  `json:"op"`
	MaxAbsDiff float64 `json:"max_abs_diff"`
	OK         bool    `json:"ok"`
}

// Verification is verify's result, op by op in forward order.
type Verification struct {
	Ops             []OpDiff `json:"ops"`
	FirstDivergence *OpDiff  `json:"first_divergence"`
}

// VerifyOptions configure Verify.
type VerifyOptions struct {
	Precision string
	// Tolerance bounds |gpu - cpu| relative to max(1, max |cpu|) per op;
	// 0 picks 1e-3 for f32 activations and 2e-2 for f16.
	Tolerance float64
	Fault     *Fault
	Device    *gpu.Device
}

// Verify runs tokens through the model on the CPU reference and on the GPU
// side by side, op by op: each side computes from its own previous outputs,
// and every op's outputs are read back (bounded by the tensor's shape) and
// compared.
func Verify(ctx context.Context, src model.Source, tokens []int32, o VerifyOptions) (res *Verification, err error) {
	dev := o.Device
	if dev == nil {
		if dev, err = gpu.Open(ctx, gpu.Options{}); err != nil {
			return nil, err
		}
		defer dev.Destroy()
	}
	prec, err := ResolvePrecision(o.Precision, dev)
	if err != nil {
		return nil, err
	}
	gb, err := NewBackend(ctx, dev, BackendOptions{Precision: prec, MaxChunk: max(len(tokens), 1), Fault: o.Fault})
	if err != nil {
		return nil, err
	}
	tol := o.Tolerance
	if tol == 0 {
		tol = 1e-3
		if gb.act == "f16" {
			tol = 2e-2
		}
	}
	c := &compare{cpu: ref.New(), gpu: gb, tol: tol, res: &Verification{Ops: []OpDiff{}}}
	m, err := loadArch(src, c, arch.Options{})
	if err != nil {
		return nil, err
	}
	defer func() {
		gb.rec.release()
		if p := recover(); p != nil {
			res, err = nil, fmt.Errorf("verify: %v", p)
		}
	}()
	cfg := m.Config()
	if err := (&Session{m: &Model{Config: cfg}}).checkTokens(tokens); err != nil {
		return nil, err
	}
	n := len(tokens)
	// The GPU side reads ids, positions and slots from one step buffer, as
	// recorded steps do.
	lay := stepLayout{B: 1, T: n, R: 1, All: true}
	data := make([]int32, lay.size())
	lay.fill(data, tokens, []int{0}, []int{0})
	step, err := dev.CreateBufferFrom("verify step", i32Bytes(data), gpu.UsageStorage|gpu.UsageCopySrc)
	if err != nil {
		return nil, err
	}
	gb.rec.own(step)
	ints := func(off, k int) *Tensor {
		return &Tensor{shape: []int{k}, dt: "i32", buf: step, off: off, name: "step"}
	}
	pos := make([]int32, n)
	for i := range pos {
		pos[i] = int32(i)
	}
	c.cpuBatch = &arch.Batch{B: 1, T: n, Tokens: c.cpu.Ints(tokens, n), Pos: c.cpu.Ints(pos, n), Slots: c.cpu.Ints([]int32{0}, 1)}
	c.gpuBatch = &arch.Batch{B: 1, T: n, Tokens: ints(lay.tokOff(0), n), Pos: ints(lay.posOff(0), n), Slots: ints(lay.slotOff(0), 1)}
	batch := &arch.Batch{B: 1, T: n,
		Tokens: &pair{c.cpuBatch.Tokens, c.gpuBatch.Tokens},
		Pos:    &pair{c.cpuBatch.Pos, c.gpuBatch.Pos},
		Slots:  &pair{c.cpuBatch.Slots, c.gpuBatch.Slots}}
	m.Forward(c, batch, arch.NewCache(c, cfg, 1, n))
	for i := range c.res.Ops {
		if !c.res.Ops[i].OK {
			d := c.res.Ops[i]
			c.res.FirstDivergence = &d
			break
		}
	}
	return c.res, nil
}

// pair is a tensor on both backends.
type pair struct {
	c, g arch.Tensor
}

func (p *pair) Shape() []int { return p.c.Shape() }

type pairKV struct{ c, g arch.KV }

func (k *pairKV) Slots() int { return k.c.Slots() }
func (k *pairKV) Len() int   { return k.c.Len() }

// compare is an arch.Backend running every op on both backends.
type compare struct {
	cpu                *ref.Backend
	gpu                *Backend
	tol                float64
	res                *Verification
	cpuBatch, gpuBatch *arch.Batch
}

func cp(t arch.Tensor) arch.Tensor {
	if t == nil {
		return nil
	}
	return t.(*pair).c
}

func gp(t arch.Tensor) arch.Tensor {
	if t == nil {
		return nil
	}
	return t.(*pair).g
}

// check reads both outputs and records the difference.
func (c *compare) check(op string, p *pair) *pair {
	want, err := c.cpu.Read(p.c)
	if err != nil {
		panic(err)
	}
	got, err := c.gpu.Read(p.g)
	if err != nil {
		panic(err)
	}
	if len(want) != len(got) {
		panic(fmt.Errorf("%s: cpu has %d values, gpu %d", op, len(want), len(got)))
	}
	var diff, scale float64
	for i := range want {
		diff = math.Max(diff, math.Abs(float64(want[i])-float64(got[i])))
		if math.IsNaN(float64(got[i])) {
			diff = math.Inf(1)
		}
		scale = math.Max(scale, math.Abs(float64(want[i])))
	}
	ok := diff <= c.tol*math.Max(1, scale)
	c.res.Ops = append(c.res.Ops, OpDiff{Layer: c.gpu.layer, Op: op, MaxAbsDiff: diff, OK: ok})
	return p
}

func (c *compare) Weight(info model.TensorInfo, raw []byte) (arch.Tensor, error) {
	ct, err := c.cpu.Weight(info, raw)
	if err != nil {
		return nil, err
	}
	g, err := c.gpu.Weight(info, raw)
	if err != nil {
		return nil, err
	}
	return &pair{ct, g}, nil
}

func (c *compare) Floats(data []float32, shape ...int) arch.Tensor {
	return &pair{c.cpu.Floats(data, shape...), c.gpu.Floats(data, shape...)}
}

func (c *compare) Ints(data []int32, shape ...int) arch.Tensor {
	return &pair{c.cpu.Ints(data, shape...), c.gpu.Ints(data, shape...)}
}

func (c *compare) NewKV(slots, length, kvHeads, headDim int) arch.KV {
	return &pairKV{c.cpu.NewKV(slots, length, kvHeads, headDim), c.gpu.NewKV(slots, length, kvHeads, headDim)}
}

func (c *compare) Read(t arch.Tensor) ([]float32, error) { return c.gpu.Read(gp(t)) }

func (c *compare) Embed(table, ids arch.Tensor) arch.Tensor {
	return c.check("embed", &pair{c.cpu.Embed(cp(table), cp(ids)), c.gpu.Embed(gp(table), gp(ids))})
}

func (c *compare) Scale(x arch.Tensor, s float32) arch.Tensor {
	return c.check("scale", &pair{c.cpu.Scale(cp(x), s), c.gpu.Scale(gp(x), s)})
}

func (c *compare) RMSNorm(x, w arch.Tensor, eps float32) arch.Tensor {
	return c.check("rmsnorm", &pair{c.cpu.RMSNorm(cp(x), cp(w), eps), c.gpu.RMSNorm(gp(x), gp(w), eps)})
}

func (c *compare) MatMul(x, w arch.Tensor) arch.Tensor {
	return c.check("matmul", &pair{c.cpu.MatMul(cp(x), cp(w)), c.gpu.MatMul(gp(x), gp(w))})
}

func (c *compare) Reshape(x arch.Tensor, shape ...int) arch.Tensor {
	return &pair{c.cpu.Reshape(cp(x), shape...), c.gpu.Reshape(gp(x), shape...)}
}

func (c *compare) Rope(x, pos arch.Tensor, p arch.RopeParams) arch.Tensor {
	cpr, gpr := p, p
	if p.Factors != nil {
		cpr.Factors, gpr.Factors = cp(p.Factors), gp(p.Factors)
	}
	return c.check("rope", &pair{c.cpu.Rope(cp(x), cp(pos), cpr), c.gpu.Rope(gp(x), gp(pos), gpr)})
}

func (c *compare) Attention(q, k, v arch.Tensor, cache arch.KV, b *arch.Batch, p arch.AttnParams) arch.Tensor {
	kv := cache.(*pairKV)
	return c.check("attention", &pair{
		c.cpu.Attention(cp(q), cp(k), cp(v), kv.c, c.cpuBatch, p),
		c.gpu.Attention(gp(q), gp(k), gp(v), kv.g, c.gpuBatch, p)})
}

func (c *compare) GLU(gate, up arch.Tensor, act arch.Activation) arch.Tensor {
	return c.check("glu", &pair{c.cpu.GLU(cp(gate), cp(up), act), c.gpu.GLU(gp(gate), gp(up), act)})
}

func (c *compare) Add(a, b arch.Tensor) arch.Tensor {
	return c.check("add", &pair{c.cpu.Add(cp(a), cp(b)), c.gpu.Add(gp(a), gp(b))})
}

func (c *compare) Softcap(x arch.Tensor, v float32) arch.Tensor {
	return c.check("softcap", &pair{c.cpu.Softcap(cp(x), v), c.gpu.Softcap(gp(x), v)})
}

func (c *compare) MoE(x, router, gate, up, down arch.Tensor, p arch.MoEParams) arch.Tensor {
	return c.check("moe", &pair{c.cpu.MoE(cp(x), cp(router), cp(gate), cp(up), cp(down), p),
		c.gpu.MoE(gp(x), gp(router), gp(gate), gp(up), gp(down), p)})
}

func (c *compare) Rows(x, idx arch.Tensor) arch.Tensor {
	return c.check("rows", &pair{c.cpu.Rows(cp(x), cp(idx)), c.gpu.Rows(gp(x), gp(idx))})
}
