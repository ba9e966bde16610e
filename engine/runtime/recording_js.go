//go:build js && wasm

package runtime

import (
	"fmt"

	"github.com/doppler-engine/doppler/engine/gpu"
	"github.com/doppler-engine/doppler/engine/gpuops"
)

// item is one recorded op: its prepared dispatch and its plan entry.
type item struct {
	d     *gpuops.Dispatch
	entry PlanEntry
}

// recording collects the dispatches of ops as they are called. Eager
// recordings (arena nil) give each output a fresh pooled buffer and run on
// Read; graph recordings draw outputs from an arena shared by the graphs of
// one family (their steps run one after another, never at once).
type recording struct {
	b     *Backend
	arena *arena
	items []item
	run   int // items already submitted
	// span bounds the positions of the recorded step's rows (0: any the
	// cache holds): see stepLayout.Span.
	span     int
	owned    []*gpu.Buffer
	versions map[*gpu.Buffer]int
	// ints is the shared input buffer of eager steps (see Backend.Ints),
	// filled up to intsUsed since the last flush.
	ints     *gpu.Buffer
	intsUsed int
	// lastAdd is the most recent residual add, a fusion candidate for a
	// norm that follows it at once.
	lastAdd *pendingAdd
	// lastEmbed is the most recent embedding gather, a fusion candidate
	// for a scale of its output that follows it at once (Gemma).
	lastEmbed *pendingEmbed
	// lastNorm is the most recent plain norm, a fusion candidate for an add
	// of its output and a norm of the sum that follow it at once (Gemma's
	// post-norms).
	lastNorm *pendingNorm
	// lastResidNorm is the most recent residual add + norm, a fusion
	// candidate for a decode GEMV of its output that follows it at once.
	lastResidNorm *pendingResidNorm
	// lastRope is the most recent q/k norm + rotation, a fusion candidate
	// for a decode attention of its outputs that follows it at once.
	lastRope *pendingRope
	// lastCombine is the most recent decode attention ending in its
	// combine pass, a fusion candidate for a GEMV of its output that
	// follows it at once.
	lastCombine *pendingCombine
}

// pendingNorm is a recorded y = norm(x)·w; prepare makes its launch again
// with other params (q8FromNorm).
type pendingNorm struct {
	item    int
	x, w    *Tensor
	y       *Tensor
	p       gpuops.NormParams
	prepare func(gpuops.NormParams) (*gpuops.Dispatch, error)
}

// pendingEmbed is a recorded y = table[ids]: what it takes to prepare the
// gather again with a scale.
type pendingEmbed struct {
	item  int
	table gpuops.Weight
	ids   *Tensor
	y     *Tensor
	entry PlanEntry
}

// pendingAdd is a recorded y = a + b.
type pendingAdd struct {
	item   int // index of its dispatch in items
	a, b   *Tensor
	y      *Tensor
	viewed bool // y was reshaped: another handle shares its buffer
	// pre is the norm recorded just before the add that produced b, when
	// it can run inside a fused norm of the sum too.
	pre *pendingNorm
}

func newRecording(b *Backend, a *arena) *recording {
	return &recording{b: b, arena: a, versions: map[*gpu.Buffer]int{}}
}

// arena hands out activation buffers by allocation order, so every graph of
// a family (same ops in the same order) reuses the same buffers.
type arena struct {
	bufs []*gpu.Buffer
	next int
	old  []*gpu.Buffer // replaced buffers still bound by earlier graphs
}

func (r *recording) own(buf *gpu.Buffer) { r.owned = append(r.owned, buf) }

const actUsage = gpu.UsageStorage | gpu.UsageCopySrc | gpu.UsageCopyDst

// alloc makes an activation tensor of shape written by op.
func (r *recording) alloc(shape []int, op string) *Tensor {
	b := r.b
	size := uint64(numel(shape) * b.prec.Bytes())
	var buf *gpu.Buffer
	var err error
	if a := r.arena; a != nil {
		if a.next < len(a.bufs) && a.bufs[a.next].Size >= size {
			buf = a.bufs[a.next]
		} else {
			buf, err = b.pool.Get(op, size, actUsage)
			if err == nil {
				if a.next < len(a.bufs) {
					a.old = append(a.old, a.bufs[a.next])
					a.bufs[a.next] = buf
				} else {
					a.bufs = append(a.bufs, buf)
				}
			}
		}
		a.next++
	} else {
		buf, err = b.pool.Get(op, size, actUsage)
		if err == nil {
			r.own(buf)
		}
	}
	if err != nil {
		b.fail(err)
	}
	return &Tensor{shape: append([]int(nil), shape...), dt: b.act, buf: buf, name: op, ver: r.versions[buf]}
}

// add appends a prepared dispatch.
func (r *recording) add(d *gpuops.Dispatch, err error, e PlanEntry) {
	if err != nil {
		r.b.fail(fmt.Errorf("%s (layer %d): %w", e.Op, e.Layer, err))
	}
	r.lastAdd, r.lastEmbed, r.lastNorm, r.lastResidNorm = nil, nil, nil, nil // another op came between: a later op may not fuse
	r.lastRope, r.lastCombine = nil, nil
	e.Precision = r.b.act
	if r.b.ops.Subgroups && reduces[e.Op] {
		e.Kernel += "+subgroups" // the device feature the kernel was specialized for
	}
	r.items = append(r.items, item{d: d, entry: e})
}

// reduces are the ops whose kernels reduce through subgroups where the
// device offers them (else through workgroup memory).
var reduces = map[string]bool{"matmul": true, "matmul×3": true, "matmul+glu": true, "rmsnorm": true, "attention": true, "qk_norm+rope+attention": true, "rope+attention": true, "moe": true, "combine+matmul": true,
	"add+rmsnorm+matmul×3": true, "add+rmsnorm+matmul+glu": true, "rmsnorm+add+rmsnorm+matmul×3": true, "rmsnorm+add+rmsnorm+matmul+glu": true}

// fusableAdd returns the add whose sum x is when it can merge with a norm
// of x: it is the last op recorded and not yet run (eager use runs each op
// as it is checked), x is its own handle (no reshaped copy), and its inputs
// are distinct current activations. Fusing writes the sum into a's buffer
// in place: x is retargeted there (handles are pointers, so every holder
// of x follows) and a's old handle becomes stale, so a forward pass that
// still read the residual from before the add would fail loudly at capture
// instead of reading the sum. Forward passes never do: the residual stream
// is always replaced by the sum.
func (r *recording) fusableAdd(x *Tensor) *pendingAdd {
	la := r.lastAdd
	if la == nil || la.y != x || la.viewed || la.item != len(r.items)-1 || la.item < r.run {
		return nil
	}
	if la.a.buf == la.b.buf || la.a.w != nil || la.a.off != 0 || la.a.buf == x.buf {
		return nil
	}
	if r.versions[la.a.buf] != la.a.ver || r.versions[la.b.buf] != la.b.ver {
		return nil
	}
	return la
}

// normBefore returns the norm whose output b is, when it was recorded just
// before an add of b (the add being item addItem) and has not run: then the
// add and a norm of its sum may absorb it.
func (r *recording) normBefore(b *Tensor, addItem int) *pendingNorm {
	ln := r.lastNorm
	if ln == nil || ln.y != b || ln.item != addItem-1 || ln.item < r.run || ln.p.OnePlus {
		return nil
	}
	return ln
}

// fuseAdd replaces the add's dispatch (and the norm before it, when fused
// too) by the fused one and retargets its sum. The absorbed norm's output
// is never written: its handle becomes stale.
func (r *recording) fuseAdd(la *pendingAdd, d *gpuops.Dispatch, err error, e PlanEntry) {
	if err != nil {
		r.b.fail(fmt.Errorf("%s (layer %d): %w", e.Op, e.Layer, err))
	}
	first := la.item
	if la.pre != nil {
		first = la.pre.item
		r.versions[la.pre.y.buf]++
	}
	for _, it := range r.items[first:] {
		it.d.Release() // never submitted
	}
	r.items = r.items[:first]
	r.add(d, nil, e)
	r.versions[la.a.buf]++
	la.y.buf, la.y.ver, la.y.name = la.a.buf, r.versions[la.a.buf], "add+rmsnorm"
	r.lastAdd = nil
}

// fusableEmbed returns the gather whose output x is when a scale of x can
// run inside it: it is the last op recorded and not yet run, and x is its
// own current handle.
func (r *recording) fusableEmbed(x *Tensor) *pendingEmbed {
	le := r.lastEmbed
	if le == nil || le.y.buf != x.buf || le.y.ver != x.ver || le.item != len(r.items)-1 || le.item < r.run {
		return nil
	}
	return le
}

// fuseScale replaces the gather's dispatch by one that also scales, and
// returns the scaled output: the gather's buffer rewritten, so the unscaled
// handle becomes stale (forward passes only ever read the scaled rows).
func (r *recording) fuseScale(le *pendingEmbed, d *gpuops.Dispatch, err error) *Tensor {
	if err != nil {
		r.b.fail(fmt.Errorf("embed+scale: %w", err))
	}
	r.items[le.item].d.Release() // never submitted
	r.items = r.items[:le.item]
	e := le.entry
	e.Op = "embed+scale"
	r.add(d, nil, e)
	return r.bump(le.y, "embed+scale")
}

// check panics unless t is still current (no in-place op rewrote its buffer).
func (r *recording) check(t *Tensor, op string) {
	if t.buf != nil && r.versions[t.buf] != t.ver {
		r.b.fail(fmt.Errorf("runtime: %s reads %s after an in-place op rewrote its buffer", op, t.name))
	}
}

// bump marks t's buffer as rewritten in place and returns the new handle.
func (r *recording) bump(t *Tensor, op string) *Tensor {
	r.versions[t.buf]++
	c := *t
	c.ver = r.versions[t.buf]
	c.name = op
	return &c
}

// flush submits the items not yet run.
func (r *recording) flush() error {
	if r.run == len(r.items) {
		return nil
	}
	b := r.b
	err := b.dev.Scope(b.ctx, func() error {
		enc := b.dev.NewEncoder("eager")
		for _, it := range r.items[r.run:] {
			it.d.Encode(enc)
		}
		return enc.Submit()
	})
	r.run = len(r.items)
	r.intsUsed = 0 // the next step's inputs may overwrite this one's
	if err != nil {
		return b.checkLost(err)
	}
	return nil
}

// dispatches counts the launches one replay records.
func (r *recording) dispatches() int {
	n := 0
	for _, it := range r.items {
		n += it.d.Dispatches()
	}
	return n
}

// plan lists the recorded ops.
func (r *recording) plan(lay stepLayout) *Plan {
	p := &Plan{Shape: lay.String(), Phase: "decode"}
	if lay.T > 1 {
		p.Phase = "prefill"
	}
	for _, it := range r.items {
		p.Entries = append(p.Entries, it.entry)
	}
	return p
}

// release gives everything the recording made back once the GPU is done.
func (r *recording) release() {
	p := r.b.pool
	for _, it := range r.items {
		d := it.d
		p.Defer(d.Release)
	}
	for _, buf := range r.owned {
		p.Put(buf)
	}
	r.items, r.owned, r.run = nil, nil, 0
}

// release gives the arena's buffers back once the GPU is done.
func (a *arena) release(p *Pool) {
	for _, buf := range append(a.bufs, a.old...) {
		p.Put(buf)
	}
	a.bufs, a.old = nil, nil
}
