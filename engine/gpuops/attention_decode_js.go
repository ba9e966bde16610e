//go:build js && wasm

package gpuops

import (
	"context"
	"fmt"

	"github.com/doppler-engine/doppler/engine/gpu"
)

// Decode attention by KV head (kernels/attention_decode.wgsl): one
// workgroup per (sequence, KV head, split) for all the query heads of that
// KV head, attnDecodeKT keys a tile.
const (
	attnDecodeKT   = 32
	attnDecodeMaxG = 8 // query heads per KV head it serves
)

// AttnDecodeTarget is the workgroups the grouped decode attention aims
// for: each split at least a tile of keys, as many splits as give the GPU
// that many workgroups (more splits make the combine pass longer). A
// variable so the benchmark can tune it on the GPU.
var AttnDecodeTarget = 256

// AttnGroupedFixed, when non-zero, overrides the choice of the grouped
// decode kernel by adapter (1 on wherever the shape allows, -1 off; tests
// run both).
var AttnGroupedFixed = 0

// grouped reports whether decode step s runs the grouped kernel (with its
// q/k norm and rotation when s.Rope is set): on GPUs. Software adapters
// keep the per-head kernel: SwiftShader ran make demo's summary in 67 s
// with it against 27 s (its 256-invocation workgroups and register arrays
// cost a CPU more than the loads they save).
func (a *Attention) grouped(s AttnShape) bool {
	on := AttnGroupedFixed > 0 || AttnGroupedFixed == 0 && !a.c.Dev.Info.Adapter.IsFallbackAdapter
	return on && s.T == 1 && s.Heads/s.KVHeads <= attnDecodeMaxG && s.HeadDim <= 4*64
}

// groupedKernel compiles (once each) attention_decode.wgsl with the plain
// q/k hooks or, with rope, those that norm and rotate q and k (the rope
// table at binding 9).
func (a *Attention) groupedKernel(rope bool) (*kernel, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	i := 0
	if rope {
		i = 1
	}
	if a.decode[i] != nil {
		return a.decode[i], nil
	}
	entries := []gpu.BindingType{gpu.Uniform, gpu.ReadOnlyStorage, gpu.Storage, gpu.Storage, gpu.ReadOnlyStorage,
		gpu.Storage, gpu.Storage, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage}
	consts := map[string]string{"KT": fmt.Sprintf("%du", attnDecodeKT), "RS": fmt.Sprintf("%du", 256/attnDecodeKT)}
	sh := shader{kernel: "attention_decode", params: attnParams{}, reduce: true, consts: consts,
		libs: []string{"attention_range", "attention_decode_plain"}}
	if rope {
		sh.params, sh.libs = attnRopeParams{}, []string{"attention_range", "attention_decode_rope"}
		entries = append(entries, gpu.ReadOnlyStorage)
	}
	k, err := a.c.compile(context.Background(), sh, entries...)
	if err != nil {
		return nil, err
	}
	a.decode[i] = k
	return k, nil
}

// groupedSplit is the key positions per split for visible positions over
// groups (sequence, KV head) pairs: whole tiles, enough splits for
// AttnDecodeTarget workgroups (s.SplitLen overrides).
func groupedSplit(s AttnShape, visible, groups int) int {
	if s.SplitLen > 0 {
		return min(s.SplitLen, visible)
	}
	want := max(1, (AttnDecodeTarget+groups-1)/groups)
	split := (visible + want - 1) / want
	split = (split + attnDecodeKT - 1) / attnDecodeKT * attnDecodeKT
	return min(split, visible)
}

// prepareGrouped adds the grouped decode attention and, with several
// splits, the combine pass.
func (a *Attention) prepareGrouped(d *Dispatch, q, k, v, kc, vc, step, out gpu.Binding, s AttnShape, visible int) error {
	kern, err := a.groupedKernel(s.Rope != nil)
	if err != nil {
		return err
	}
	rows := s.B
	split := groupedSplit(s, visible, rows*s.KVHeads)
	splits := (visible + split - 1) / split
	p := attnParams{Rows: uint32(rows), T: 1, Heads: uint32(s.Heads), KVHeads: uint32(s.KVHeads),
		HeadDim: uint32(s.HeadDim), CacheLen: uint32(s.CacheLen), Window: uint32(s.Window), Splits: uint32(splits),
		SplitLen: uint32(split), PosOff: uint32(s.PosOff), SlotOff: uint32(s.SlotOff), Scale: s.Scale, Softcap: s.Softcap, Fresh: 1}
	partBytes := uint64(16) // unread with one split; one record quad
	if splits > 1 {
		partBytes = uint64(4 * rows * s.Heads * splits * (s.HeadDim + 4))
	}
	part, err := d.scratch(a.c, "partials", partBytes)
	if err != nil {
		return err
	}
	groups := uint32(rows * s.KVHeads * splits)
	if s.Rope != nil {
		rp, table, err := a.ropeInputs(d, p, s)
		if err != nil {
			return err
		}
		err = d.add(kern, rp, groups, q, kc, vc, step, out, part.Binding(), k, v, table.Binding())
		if err != nil {
			return err
		}
	} else if err := d.add(kern, p, groups, q, kc, vc, step, out, part.Binding(), k, v); err != nil {
		return err
	}
	if splits > 1 {
		cp := combineParams{Rows: uint32(rows), Heads: uint32(s.Heads), HeadDim: uint32(s.HeadDim), Splits: uint32(splits)}
		if err := d.add(a.reduce, cp, uint32(rows*s.Heads), part.Binding(), out); err != nil {
			return err
		}
		d.deferrable(rows, part, s, splits)
	}
	return nil
}

// deferrable notes the combine pass just added to d as one a GEMV of the
// output may run instead (Dispatch.Combine): for one row.
func (d *Dispatch) deferrable(rows int, part *gpu.Buffer, s AttnShape, splits int) {
	if rows == 1 {
		d.combine = &GemvCombine{Part: part.Binding(), Heads: s.Heads, HeadDim: s.HeadDim, Splits: splits}
	}
}
