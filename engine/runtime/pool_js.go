//go:build js && wasm

package runtime

import (
	"context"
	"sync"

	"github.com/doppler-engine/doppler/engine/gpu"
	"github.com/doppler-engine/doppler/engine/webjs"
)

// Pool recycles GPU buffers and defers their destruction (and any other
// cleanup) until the GPU finished every piece of work submitted before they
// were given back. A returned buffer is tagged with the id of the next
// completion watch; a watch calls queue.onSubmittedWorkDone() only after
// the tag was given, so it covers all submissions that could use the buffer
// (onSubmittedWorkDone resolves after everything submitted before the call).
// Buffers come back into use or are destroyed only after their watch resolved.
type Pool struct {
	dev *gpu.Device
	// MaxFree is how many bytes of idle buffers are kept for reuse; done
	// buffers beyond it are destroyed.
	MaxFree uint64

	mu        sync.Mutex
	free      map[poolKey][]*gpu.Buffer
	freeBytes uint64
	pending   []pendingItem
	nextWatch uint64 // id of the next watch to start
	doneWatch uint64 // highest id resolved (ids start at 1)
	watching  bool
	destroyed int
	allocated uint64 // bytes of live buffers made by the pool
	idle      chan struct{}
}

type poolKey struct {
	size  uint64
	usage gpu.BufferUsage
}

type pendingItem struct {
	watch uint64
	buf   *gpu.Buffer
	fn    func()
}

// NewPool makes a pool that keeps up to maxFree idle bytes.
func NewPool(dev *gpu.Device, maxFree uint64) *Pool {
	return &Pool{dev: dev, MaxFree: maxFree, free: map[poolKey][]*gpu.Buffer{}, nextWatch: 1}
}

// sizeClass rounds n up so buffers of close sizes are shared: to 256 bytes,
// then to a quarter of the next power of two.
func sizeClass(n uint64) uint64 {
	n = gpu.AlignUp(max(n, 4), 256)
	p := uint64(256)
	for p < n {
		p <<= 1
	}
	q := max(p/4, 256)
	return gpu.AlignUp(n, q)
}

// Get returns a buffer of at least size bytes with usage, recycled when one
// is idle.
func (p *Pool) Get(label string, size uint64, usage gpu.BufferUsage) (*gpu.Buffer, error) {
	k := poolKey{sizeClass(size), usage}
	p.mu.Lock()
	if list := p.free[k]; len(list) > 0 {
		b := list[len(list)-1]
		p.free[k] = list[:len(list)-1]
		p.freeBytes -= k.size
		p.mu.Unlock()
		b.Label = label
		return b, nil
	}
	p.mu.Unlock()
	b, err := p.dev.CreateBuffer(label, k.size, usage)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.allocated += k.size
	p.mu.Unlock()
	return b, nil
}

// Put gives b back once the GPU finished the work submitted so far.
func (p *Pool) Put(b *gpu.Buffer) {
	if b == nil {
		return
	}
	p.defer_(pendingItem{buf: b})
}

// Defer runs fn once the GPU finished the work submitted so far (e.g. to
// release a prepared dispatch's uniforms).
func (p *Pool) Defer(fn func()) { p.defer_(pendingItem{fn: fn}) }

func (p *Pool) defer_(it pendingItem) {
	p.mu.Lock()
	it.watch = p.nextWatch
	p.pending = append(p.pending, it)
	start := !p.watching
	if start {
		p.watching = true
	}
	p.mu.Unlock()
	if start {
		p.watch()
	}
}

// watch starts a completion watch covering everything tagged so far.
func (p *Pool) watch() {
	p.mu.Lock()
	id := p.nextWatch
	p.nextWatch++
	p.mu.Unlock()
	prom, err := p.dev.Queue().Call("onSubmittedWorkDone")
	go func() {
		if err == nil {
			_, err = webjs.Await(prom)
		}
		// On error (device lost) nothing runs on the GPU any more either.
		p.resolved(id)
	}()
}

func (p *Pool) resolved(id uint64) {
	p.mu.Lock()
	p.doneWatch = max(p.doneWatch, id)
	var run []pendingItem
	keep := p.pending[:0]
	for _, it := range p.pending {
		if it.watch <= p.doneWatch {
			run = append(run, it)
		} else {
			keep = append(keep, it)
		}
	}
	p.pending = keep
	var destroy []*gpu.Buffer
	for _, it := range run {
		if it.buf == nil {
			continue
		}
		k := poolKey{it.buf.Size, it.buf.Usage}
		if p.freeBytes+k.size <= p.MaxFree && k.size == sizeClass(k.size) {
			p.free[k] = append(p.free[k], it.buf)
			p.freeBytes += k.size
		} else {
			destroy = append(destroy, it.buf)
			p.destroyed++
			p.allocated -= min(p.allocated, k.size)
		}
	}
	again := len(p.pending) > 0
	p.watching = again
	idle := p.idle
	if !again {
		p.idle = nil
	}
	p.mu.Unlock()
	for _, b := range destroy {
		b.Destroy()
	}
	for _, it := range run {
		if it.fn != nil {
			it.fn()
		}
	}
	if again {
		p.watch()
	} else if idle != nil {
		close(idle)
	}
}

// Wait blocks until every deferred item has run.
func (p *Pool) Wait(ctx context.Context) error {
	p.mu.Lock()
	if len(p.pending) == 0 {
		p.mu.Unlock()
		return nil
	}
	if p.idle == nil {
		p.idle = make(chan struct{})
	}
	ch := p.idle
	p.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats reports the buffers destroyed so far, the pending items and the
// bytes of live pool buffers.
func (p *Pool) Stats() (destroyed, pending int, live uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.destroyed, len(p.pending), p.allocated
}
