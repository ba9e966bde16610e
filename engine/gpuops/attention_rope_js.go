//go:build js && wasm

package gpuops

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/doppler-engine/doppler/engine/gpu"
)

// AttnRope is the q/k work a decode attention can do itself in place of a
// Rope.PrepareQK launch before it: the same per-head RMSNorm (Norm, nil for
// none) and rotation (Cfg) with the same roundings.
type AttnRope struct {
	Cfg  RopeConfig
	Norm *QKNorm
}

// attnRopeBuffers is the storage buffers the fused decode kernel binds:
// attention.wgsl's eight and the rope table (frequencies and norm weights
// packed into one buffer, so a device with one binding over WebGPU's
// default of eight runs it).
const attnRopeBuffers = 9

// attnRopeFixed, when non-zero, overrides the device limit's choice of the
// fused kernel (1 on, -1 off; tests run both paths on lavapipe).
var attnRopeFixed = 0

// FusesRope reports whether decode attention can take AttnShape.Rope on
// this device: its shader stages bind attnRopeBuffers storage buffers.
func (a *Attention) FusesRope() bool {
	if attnRopeFixed != 0 {
		return attnRopeFixed > 0
	}
	return a.c.Dev.Info.Limit("maxStorageBuffersPerShaderStage") >= attnRopeBuffers
}

// ropeKernel compiles (once) the decode attention with attention_qk_rope.
func (a *Attention) ropeKernel() (*kernel, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.attnRope != nil {
		return a.attnRope, nil
	}
	k, err := a.c.compile(context.Background(), shader{kernel: "attention", params: attnRopeParams{}, reduce: true,
		consts: map[string]string{"G": fmt.Sprintf("%du", attnDecodeG), "WIDE": a.wide}, libs: []string{"attention_range", "attention_qk_rope"}},
		gpu.Uniform, gpu.ReadOnlyStorage, gpu.Storage, gpu.Storage, gpu.ReadOnlyStorage,
		gpu.Storage, gpu.Storage, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage, gpu.ReadOnlyStorage)
	if err != nil {
		return nil, err
	}
	a.attnRope = k
	return k, nil
}

// addRope adds the decode attention launch that norms and rotates q and k
// itself (bindings as attention.wgsl's, the rope table appended).
func (a *Attention) addRope(d *Dispatch, p attnParams, s AttnShape, groups uint32, bindings ...gpu.Binding) error {
	k, err := a.ropeKernel()
	if err != nil {
		return err
	}
	rp, table, err := a.ropeInputs(d, p, s)
	if err != nil {
		return err
	}
	return d.add(k, rp, groups, append(bindings, table.Binding())...)
}

// ropeInputs are the params and rope table of a decode attention that
// norms and rotates q and k itself.
func (a *Attention) ropeInputs(d *Dispatch, p attnParams, s AttnShape) (attnRopeParams, *gpu.Buffer, error) {
	cfg, norm := s.Rope.Cfg, s.Rope.Norm
	dim := cfg.Dim
	if dim == 0 {
		dim = s.HeadDim
	}
	if dim > s.HeadDim {
		return attnRopeParams{}, nil, fmt.Errorf("gpuops: rope of %d dims on heads of %d", dim, s.HeadDim)
	}
	freqs, err := ropeFreqs(cfg, dim)
	if err != nil {
		return attnRopeParams{}, nil, err
	}
	table, err := a.ropeTable(d, freqs, s.HeadDim, norm)
	if err != nil {
		return attnRopeParams{}, nil, err
	}
	var eps float32
	if norm != nil {
		eps = norm.Eps
	}
	return p.withRope(dim/2, cfg.Neox, norm != nil, eps), table, nil
}

// ropeTable makes the dispatch's rope table: freqs, then with norm the
// q and the k norm weights (headDim f32 each), copied on the GPU once.
func (a *Attention) ropeTable(d *Dispatch, freqs []float32, headDim int, norm *QKNorm) (*gpu.Buffer, error) {
	n := len(freqs)
	if norm != nil {
		n += 2 * headDim
	}
	b, err := a.c.Dev.CreateBuffer(d.Label+" rope table", uint64(4*n), gpu.UsageStorage|gpu.UsageCopyDst)
	if err != nil {
		return nil, err
	}
	d.owned = append(d.owned, b)
	raw := make([]byte, 4*len(freqs))
	for i, f := range freqs {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(f))
	}
	if err := a.c.Dev.WriteBuffer(b, 0, raw); err != nil {
		return nil, err
	}
	if norm == nil {
		return b, nil
	}
	size := uint64(4 * headDim)
	for _, w := range []gpu.Binding{norm.Q, norm.K} {
		if w.Size != 0 && w.Size < size {
			return nil, fmt.Errorf("gpuops: q/k norm weights of %d bytes for heads of %d", w.Size, headDim)
		}
	}
	enc := a.c.Dev.NewEncoder("attention rope table")
	enc.CopyBuffer(norm.Q.Buffer, norm.Q.Offset, b, uint64(4*len(freqs)), size)
	enc.CopyBuffer(norm.K.Buffer, norm.K.Offset, b, uint64(4*len(freqs))+size, size)
	return b, enc.Submit()
}
