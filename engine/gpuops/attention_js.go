//go:build js && wasm

package gpuops

import (
	"context"
	"fmt"

	"github.com/doppler-engine/doppler/engine/gpu"
)

// Attention appends a step's keys and values to a layer's cache and attends
// over it.
type Attention struct {
	c                     *Context
	appendK, attn, reduce *kernel
	// attnDecode is attention.wgsl with attnDecodeG invocations per key,
	// for decode's short splits.
	attnDecode *kernel
}

// attnDecodeG is how many invocations share a key's dot product in decode.
const attnDecodeG = 4

// AttnShape is one layer's attention step, static for a prepared plan.
//
// Caches hold Slots × CacheLen × KVHeads × HeadDim activations each, row
// (slot, p % CacheLen): a full-length cache (CacheLen ≥ every position) or a
// ring buffer for sliding-window layers, which then needs
// CacheLen ≥ Window + T - 1 so a prefill chunk does not overwrite keys its
// own earlier rows still see.
//
// Per step the runtime writes int32 values into the step buffer: the
// position of row r at element PosOff+r, the cache slot of sequence b at
// SlotOff+b (rows are b*T+t).
type AttnShape struct {
	B, T            int // sequences and rows per sequence
	Heads, KVHeads  int
	HeadDim         int // ≤ 256
	CacheLen        int
	PosOff, SlotOff int
	Scale           float32
	Softcap         float32 // 0 = off
	Window          int     // 0 = full causal
	// SplitLen is the key positions per workgroup; 0 picks: the whole cache
	// when there are many query rows (prefill), else 256 with a combine pass.
	SplitLen int
}

// NewAttention compiles the append, attention and combine kernels.
func NewAttention(ctx context.Context, c *Context) (*Attention, error) {
	appendK, err := c.compile(ctx, shader{kernel: "attention_kv_append", params: kvAppendParams{}},
		gpu.Uniform, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage, gpu.Storage, gpu.Storage)
	if err != nil {
		return nil, err
	}
	attnEntries := []gpu.BindingType{gpu.Uniform, gpu.ReadOnlyStorage, gpu.Storage, gpu.Storage, gpu.ReadOnlyStorage,
		gpu.Storage, gpu.Storage, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage}
	attn, err := c.compile(ctx, shader{kernel: "attention", params: attnParams{}, reduce: true, consts: map[string]string{"G": "1u"}},
		attnEntries...)
	if err != nil {
		return nil, err
	}
	attnDecode, err := c.compile(ctx, shader{kernel: "attention", params: attnParams{}, reduce: true,
		consts: map[string]string{"G": fmt.Sprintf("%du", attnDecodeG)}}, attnEntries...)
	if err != nil {
		return nil, err
	}
	reduce, err := c.compile(ctx, shader{kernel: "attention_combine", params: combineParams{}, reduce: true},
		gpu.Uniform, gpu.ReadOnlyStorage, gpu.Storage)
	if err != nil {
		return nil, err
	}
	return &Attention{c: c, appendK: appendK, attn: attn, reduce: reduce, attnDecode: attnDecode}, nil
}

// Decode attention aims for at least attnTargetGroups workgroups, each
// covering at least attnMinSplit key positions (fewer would make the combine
// dominate). On the H200, 1024/16 decoded 1–15% faster than 256/32 (same
// run). A prompt chunk of fewer than attnPrefillGroups (row, head) pairs is
// split the same way (its rows already give the GPU work).
const (
	attnTargetGroups  = 1024
	attnMinSplit      = 16
	attnPrefillGroups = 256
)

// Prepare stores k, v [B*T, KVHeads, HeadDim] into kc, vc at the step's
// positions, then writes out [B*T, Heads*HeadDim] = attention of q
// [B*T, Heads, HeadDim] over each row's visible cached keys.
func (a *Attention) Prepare(q, k, v, kc, vc, step, out gpu.Binding, s AttnShape) (*Dispatch, error) {
	rows := s.B * s.T
	if s.HeadDim > 256 || s.HeadDim <= 0 || s.HeadDim%4 != 0 || s.KVHeads <= 0 || s.Heads%s.KVHeads != 0 || s.CacheLen <= 0 || rows <= 0 {
		return nil, fmt.Errorf("gpuops: unsupported attention shape %+v", s)
	}
	d := &Dispatch{Label: "attention"}
	fail := func(err error) (*Dispatch, error) { d.Release(); return nil, err }
	// Decode (one row per sequence) stores the step's key and value inside
	// the attention pass; a prefill chunk's rows see each other's, so they
	// are appended first.
	fresh := s.T == 1
	if !fresh {
		ap := kvAppendParams{Rows: uint32(rows), T: uint32(s.T), KVHeads: uint32(s.KVHeads), HeadDim: uint32(s.HeadDim),
			CacheLen: uint32(s.CacheLen), PosOff: uint32(s.PosOff), SlotOff: uint32(s.SlotOff)}
		if err := d.add(a.appendK, ap, groupsFor(rows*s.KVHeads*s.HeadDim), k, v, step, kc, vc); err != nil {
			return fail(err)
		}
	}
	// A query sees at most CacheLen keys (Window with a window).
	visible := s.CacheLen
	if s.Window > 0 {
		visible = min(visible, s.Window)
	}
	split := s.SplitLen
	if split <= 0 {
		split = s.CacheLen
		target := attnTargetGroups
		if !fresh {
			target = attnPrefillGroups
		}
		if rows*s.Heads < target {
			// Few (row, head) pairs would leave most of the GPU idle while
			// each workgroup walks hundreds of keys; spread the keys over
			// enough workgroups and let the combine pass merge them.
			want := (target + rows*s.Heads - 1) / (rows * s.Heads)
			split = max(attnMinSplit, (visible+want-1)/want)
		}
	}
	split = min(split, visible)
	splits := (visible + split - 1) / split
	p := attnParams{Rows: uint32(rows), T: uint32(s.T), Heads: uint32(s.Heads), KVHeads: uint32(s.KVHeads),
		HeadDim: uint32(s.HeadDim), CacheLen: uint32(s.CacheLen), Window: uint32(s.Window), Splits: uint32(splits),
		SplitLen: uint32(split), PosOff: uint32(s.PosOff), SlotOff: uint32(s.SlotOff), Scale: s.Scale, Softcap: s.Softcap}
	if fresh {
		p.Fresh = 1
	}
	partBytes := uint64(4)
	if splits > 1 {
		partBytes = uint64(4 * rows * s.Heads * splits * (s.HeadDim + 2))
	}
	part, err := d.scratch(a.c, "partials", partBytes)
	if err != nil {
		return fail(err)
	}
	attn := a.attn
	if fresh {
		attn = a.attnDecode
	}
	if err := d.add(attn, p, uint32(rows*s.Heads*splits), q, kc, vc, step, out, part.Binding(), k, v); err != nil {
		return fail(err)
	}
	if splits > 1 {
		cp := combineParams{Rows: uint32(rows), Heads: uint32(s.Heads), HeadDim: uint32(s.HeadDim), Splits: uint32(splits)}
		if err := d.add(a.reduce, cp, uint32(rows*s.Heads), part.Binding(), out); err != nil {
			return fail(err)
		}
	}
	return d, nil
}
