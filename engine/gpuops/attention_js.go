//go:build js && wasm

package gpuops

import (
	"context"
	"fmt"
	"sync"

	"github.com/doppler-engine/doppler/engine/gpu"
)

// Attention appends a step's keys and values to a layer's cache and attends
// over it.
type Attention struct {
	c                     *Context
	appendK, attn, reduce *kernel
	// reduceRows is the combine pass of a prompt chunk split into at most
	// combineRowsMax splits (kernels/attention_combine_rows.wgsl).
	reduceRows *kernel
	// attnDecode is attention.wgsl with attnDecodeG invocations per key,
	// for decode's short splits.
	attnDecode *kernel
	// prefill holds attention_prefill.wgsl per block shape, compiled on
	// first use (lavapipe takes seconds per pipeline).
	mu      sync.Mutex
	prefill map[prefillTiling]*kernel
	block   map[blockTiling]*kernel // attention_block.wgsl's, the same way
	// part is the tiled kernel's split partials, shared by all the
	// dispatches it prepares: launches run one after another, and a buffer
	// per layer would hold up to ~17 MiB each for the plan's lifetime. A
	// larger need makes a new one; dispatches already prepared keep theirs.
	part *gpu.Buffer
	// wide is the decode kernels' WIDE constant; attnRope the decode
	// kernel that norms and rotates q and k itself (attention_rope_js.go),
	// compiled on first use.
	wide     string
	attnRope *kernel
	// decode is attention_decode.wgsl (attention_decode_js.go) without
	// and with the q/k rope hooks, compiled on first use.
	decode [2]*kernel
}

// attnWideFixed, when non-zero, overrides the adapter's choice of the
// decode attention's wide loads (1 on, -1 off; tests).
var attnWideFixed = 0

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
	// Span, when non-zero, bounds every row's position: all are below it
	// (a graph recorded for a short history in a long cache). Decode then
	// splits Span keys, not CacheLen: no split a row cannot reach, and a
	// shorter combine.
	Span int
	// SplitLen is the key positions per workgroup; 0 picks. Row-wise: the
	// whole cache when there are many query rows, else enough splits for
	// the GPU, with a combine pass. Tiled (prompt chunks, see
	// prepareTiled): a block's keys from its oldest visible one; 0 divides
	// each block's own key range into as many parts as fill the GPU.
	SplitLen int
	// Kernel picks the prompt-chunk kernel (tests and benchmarks compare
	// them); the zero value lets Prepare choose.
	Kernel AttnKernel
	// Rope, for decode (T == 1) where FusesRope allows it, has the kernel
	// norm and rotate q and k itself: they arrive as projected, and the
	// rotated key is what goes into the cache (PrepareQK's work).
	Rope *AttnRope
}

// AttnKernel selects the attention kernel of a prompt chunk (T > 1).
type AttnKernel int

const (
	// AttnAuto uses the blocked kernel from AttnTiledMinRows rows per
	// sequence where the head_dim and the device's workgroup memory allow
	// it (newBlockTiling), else the tiled one; the row-wise one below.
	AttnAuto AttnKernel = iota
	// AttnRowwise is attention.wgsl: one workgroup per (row, head, split).
	AttnRowwise
	// AttnTiled is attention_prefill.wgsl: one workgroup per block of
	// queries of a KV head (and split), keys staged once per block.
	AttnTiled
	// AttnBlock is attention_block.wgsl: the tiled kernel's blocks and
	// splits, scores and outputs in register micro-tiles.
	AttnBlock
)

func (k AttnKernel) String() string {
	switch k {
	case AttnRowwise:
		return "rowwise"
	case AttnTiled:
		return "tiled"
	case AttnBlock:
		return "block"
	}
	return "auto"
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
	// Software adapters (lavapipe, SwiftShader: fallback adapters) run the
	// plain loops: the wide ones cost them ~10% of a demo summary.
	wide := fmt.Sprint(attnWideFixed > 0 || attnWideFixed == 0 && !c.Dev.Info.Adapter.IsFallbackAdapter)
	attn, err := c.compile(ctx, shader{kernel: "attention", params: attnParams{}, reduce: true, consts: map[string]string{"G": "1u", "WIDE": wide},
		libs: []string{"attention_range", "attention_qk_plain"}}, attnEntries...)
	if err != nil {
		return nil, err
	}
	attnDecode, err := c.compile(ctx, shader{kernel: "attention", params: attnParams{}, reduce: true,
		consts: map[string]string{"G": fmt.Sprintf("%du", attnDecodeG), "WIDE": wide}, libs: []string{"attention_range", "attention_qk_plain"}}, attnEntries...)
	if err != nil {
		return nil, err
	}
	reduce, err := c.compile(ctx, shader{kernel: "attention_combine", params: combineParams{}, reduce: true},
		gpu.Uniform, gpu.ReadOnlyStorage, gpu.Storage)
	if err != nil {
		return nil, err
	}
	reduceRows, err := c.compile(ctx, shader{kernel: "attention_combine_rows", params: combineParams{}},
		gpu.Uniform, gpu.ReadOnlyStorage, gpu.Storage)
	if err != nil {
		return nil, err
	}
	return &Attention{c: c, appendK: appendK, attn: attn, reduce: reduce, reduceRows: reduceRows, attnDecode: attnDecode,
		prefill: map[prefillTiling]*kernel{}, block: map[blockTiling]*kernel{}, wide: wide}, nil
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
// [B*T, Heads, HeadDim] over each row's visible cached keys: decode with
// attention.wgsl (storing its key and value itself), a prompt chunk after
// an append pass with attention_prefill.wgsl from AttnTiledMinRows rows per
// sequence (s.Kernel overrides), else attention.wgsl.
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
	if s.Rope != nil && !(fresh && a.FusesRope()) {
		return fail(fmt.Errorf("gpuops: attention with its own rope needs decode (T = 1, not %d) and %d storage buffers per stage", s.T, attnRopeBuffers))
	}
	if !fresh {
		ap := kvAppendParams{Rows: uint32(rows), T: uint32(s.T), KVHeads: uint32(s.KVHeads), HeadDim: uint32(s.HeadDim),
			CacheLen: uint32(s.CacheLen), PosOff: uint32(s.PosOff), SlotOff: uint32(s.SlotOff)}
		if err := d.add(a.appendK, ap, groupsFor(rows*s.KVHeads*s.HeadDim), k, v, step, kc, vc); err != nil {
			return fail(err)
		}
	}
	if !fresh && (s.Kernel == AttnTiled || s.Kernel == AttnBlock || s.Kernel == AttnAuto && s.T >= AttnTiledMinRows) {
		if err := a.prepareTiled(d, q, kc, vc, step, out, s); err != nil {
			return fail(err)
		}
		return d, nil
	}
	// A query sees at most CacheLen keys (Window with a window).
	visible := s.CacheLen
	if s.Window > 0 {
		visible = min(visible, s.Window)
	}
	if s.Span > 0 {
		visible = min(visible, s.Span)
	}
	if fresh && a.grouped(s) {
		if err := a.prepareGrouped(d, q, k, v, kc, vc, step, out, s, visible); err != nil {
			return fail(err)
		}
		return d, nil
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
	partBytes := uint64(16) // unread with one split; one record quad
	if splits > 1 {
		partBytes = uint64(4 * rows * s.Heads * splits * (s.HeadDim + 4))
	}
	part, err := d.scratch(a.c, "partials", partBytes)
	if err != nil {
		return fail(err)
	}
	attn := a.attn
	if fresh {
		attn = a.attnDecode
	}
	if s.Rope != nil {
		if err := a.addRope(d, p, s, uint32(rows*s.Heads*splits), q, kc, vc, step, out, part.Binding(), k, v); err != nil {
			return fail(err)
		}
	} else if err := d.add(attn, p, uint32(rows*s.Heads*splits), q, kc, vc, step, out, part.Binding(), k, v); err != nil {
		return fail(err)
	}
	if splits > 1 {
		cp := combineParams{Rows: uint32(rows), Heads: uint32(s.Heads), HeadDim: uint32(s.HeadDim), Splits: uint32(splits)}
		if err := d.add(a.reduce, cp, uint32(rows*s.Heads), part.Binding(), out); err != nil {
			return fail(err)
		}
		if fresh {
			d.deferrable(rows, part, s, splits)
		}
	}
	return d, nil
}

// AttnTiledMinRows is the rows per sequence from which a prompt chunk uses
// the tiled kernel; AttnTiledTargetGroups is the number of workgroups it
// aims for (splitting each block's keys, at least attnTiledMinSplit
// positions per split, when the blocks are fewer). Variables so the
// benchmark can tune them on the GPU.
var (
	AttnTiledMinRows      = 16
	AttnTiledTargetGroups = 1024
)

const attnTiledMinSplit = 64

// prefillKernel compiles (once) the prompt-chunk kernel for shape s: the
// blocked one (AttnBlock, or AttnAuto where newBlockTiling fits) or
// attention_prefill.wgsl. It returns the kernel's queries per block.
func (a *Attention) prefillKernel(s AttnShape) (*kernel, int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	shared := a.c.Dev.Info.Limits["maxComputeWorkgroupStorageSize"]
	if bt, ok := newBlockTiling(s.HeadDim, shared); ok && s.Kernel != AttnTiled {
		k, err := compileOnce(a.c, a.block, bt, "attention_block", bt.consts())
		return k, bt.BR, err
	} else if s.Kernel == AttnBlock {
		return nil, 0, fmt.Errorf("gpuops: no blocked attention for head_dim %d in %d bytes of workgroup memory", s.HeadDim, shared)
	}
	tl := newPrefillTiling(s.HeadDim)
	k, err := compileOnce(a.c, a.prefill, tl, "attention_prefill", tl.consts())
	return k, tl.BR, err
}

// compileOnce returns the prompt-chunk kernel name compiled with consts,
// kept in m under key.
func compileOnce[K comparable](c *Context, m map[K]*kernel, key K, name string, consts map[string]string) (*kernel, error) {
	if k := m[key]; k != nil {
		return k, nil
	}
	k, err := c.compile(context.Background(), shader{kernel: name, params: attnPrefillParams{}, consts: consts, libs: []string{"attention_prompt"}},
		prefillEntries...)
	if err != nil {
		return nil, err
	}
	m[key] = k
	return k, nil
}

var prefillEntries = []gpu.BindingType{gpu.Uniform, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage,
	gpu.Storage, gpu.Storage}

// prepareTiled adds the tiled or blocked attention of a prompt chunk
// (keys already appended) and, with several splits, the combine pass.
//
// It splits keys only to give the GPU enough workgroups: unlike the
// row-wise kernel's fixed split positions, SplitLen 0 here divides each
// block's actual key range into equal parts, because the plan is prepared
// once while a chunk's positions (how many keys it sees) change per step.
// An explicit SplitLen keeps its meaning: key positions per workgroup.
func (a *Attention) prepareTiled(d *Dispatch, q, kc, vc, step, out gpu.Binding, s AttnShape) error {
	k, br, err := a.prefillKernel(s)
	if err != nil {
		return err
	}
	group := s.Heads / s.KVHeads
	blocks := (s.T*group + br - 1) / br
	groups := s.B * s.KVHeads * blocks
	// A block's key range: at most the cache, and with a window the window
	// plus the positions its rows span (consecutive within a chunk).
	keys := s.CacheLen
	if s.Window > 0 {
		keys = min(keys, s.Window+min(s.T, (br+group-1)/group+1)-1)
	}
	splits, splitLen := 1, 0
	switch {
	case s.SplitLen > 0:
		splitLen = min(s.SplitLen, keys)
		splits = (keys + splitLen - 1) / splitLen
	case groups < AttnTiledTargetGroups:
		splits = min((AttnTiledTargetGroups+groups-1)/groups, (keys+attnTiledMinSplit-1)/attnTiledMinSplit)
	}
	p := attnPrefillParams{T: uint32(s.T), Heads: uint32(s.Heads), KVHeads: uint32(s.KVHeads), CacheLen: uint32(s.CacheLen),
		Window: uint32(s.Window), Blocks: uint32(blocks), Groups: uint32(groups), Splits: uint32(splits), SplitLen: uint32(splitLen),
		PosOff: uint32(s.PosOff), SlotOff: uint32(s.SlotOff), Scale: s.Scale, Softcap: s.Softcap}
	rows := s.B * s.T
	partBytes := uint64(16) // unread with one split; one record quad
	if splits > 1 {
		partBytes = uint64(4 * rows * s.Heads * splits * (s.HeadDim + 4))
	}
	part, err := a.partials(partBytes)
	if err != nil {
		return err
	}
	rowsCombine := splits > 1 && splits <= combineRowsMax && s.HeadDim%4 == 0 && !CombineRowsOff
	if rowsCombine && !CountedOff {
		p.Counted = 1
	}
	if err := d.add(k, p, uint32(groups*splits), q, kc, vc, step, out, part.Binding()); err != nil {
		return err
	}
	if splits > 1 {
		cp := combineParams{Rows: uint32(rows), Heads: uint32(s.Heads), HeadDim: uint32(s.HeadDim), Splits: uint32(splits)}
		if rowsCombine {
			return d.add(a.reduceRows, cp, groupsFor(rows*s.Heads*s.HeadDim/4), part.Binding(), out)
		}
		return d.add(a.reduce, cp, uint32(rows*s.Heads), part.Binding(), out)
	}
	return nil
}

// combineRowsMax is the most splits of a prompt chunk that the combine
// pass of one invocation per output quad takes (each reads every split's
// record); more keep the general combine, which reads them in parallel.
const combineRowsMax = 64

// CombineRowsOff makes every prompt chunk take the general combine pass
// (tests and benchmarks).
var CombineRowsOff = false

// CountedOff makes every split of a prompt chunk's attention write its
// records, holding keys or not (tests and benchmarks: before, a block of a
// few tiles in a long cache spent most of its splits' workgroups and its
// combine's reads on empty ones).
var CountedOff = false

// partials returns the shared partials buffer, at least size bytes.
func (a *Attention) partials(size uint64) (*gpu.Buffer, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.part == nil || a.part.Size < size {
		b, err := a.c.Dev.CreateBuffer("attention partials", size, gpu.UsageStorage|gpu.UsageCopyDst) // CopyDst: tests fill it
		if err != nil {
			return nil, err
		}
		a.part = b
	}
	return a.part, nil
}
