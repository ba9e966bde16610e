//go:build js && wasm

package gpuops

import (
	"fmt"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/gpu"
)

// Weight is a packed 2D weight in ggml order {In, Out}: Out rows of In
// elements, each row RowBytes long in DType's layout, stored as one or more
// parts of consecutive rows (e.g. one buffer per file shard, or one buffer
// larger than a binding, which ops split into chunks themselves).
type Weight struct {
	DType   dtype.DType
	In, Out int
	Parts   []WeightPart
}

// WeightPart is Rows consecutive rows at byte Offset (even) of Buffer.
type WeightPart struct {
	Buffer *gpu.Buffer
	Offset uint64
	Rows   int
}

// NewWeight is a weight held whole in one buffer at offset 0.
func NewWeight(t dtype.DType, in, out int, buf *gpu.Buffer) Weight {
	return Weight{DType: t, In: in, Out: out, Parts: []WeightPart{{Buffer: buf, Rows: out}}}
}

// RowBytes is the size of one row.
func (w Weight) RowBytes() uint64 {
	n, err := w.DType.RowBytes(int64(w.In))
	if err != nil {
		return 0
	}
	return uint64(n)
}

// chunk is one bindable range of a weight's rows.
type chunk struct {
	binding  gpu.Binding
	rowStart int // first row (of the whole weight)
	rows     int
	wbase    uint32
}

// weightAlign is the byte alignment a weight part of type t needs: 16 for
// the types read as vectors (vec4Weights: their super-blocks keep every
// row aligned), else 1.
func weightAlign(t dtype.DType) uint64 {
	if vec4Weights[t] {
		return 16
	}
	return 1
}

// chunks splits w into bindings no larger than c.MaxBinding.
func (c *Context) chunks(w Weight) ([]chunk, error) {
	if !WeightSupported(w.DType) {
		return nil, fmt.Errorf("gpuops: weights of type %v are not supported", w.DType)
	}
	rb := w.RowBytes()
	if rb == 0 {
		return nil, fmt.Errorf("gpuops: %v rows of %d elements are not whole blocks", w.DType, w.In)
	}
	var out []chunk
	row := 0
	for _, p := range w.Parts {
		if a := weightAlign(w.DType); p.Offset%a != 0 {
			// Their kernels read whole words or vectors (kernels/weight_q4_k.wgsl).
			return nil, fmt.Errorf("gpuops: %v weight part at byte %d is not %d-byte aligned", w.DType, p.Offset, a)
		}
		spans, err := splitRows(p.Offset, p.Rows, rb, c.MaxBinding, c.align, p.Buffer.Size)
		if err != nil {
			return nil, err
		}
		for _, s := range spans {
			out = append(out, chunk{
				binding:  gpu.Binding{Buffer: p.Buffer, Offset: s.bindOffset, Size: s.bindSize},
				rowStart: row + s.rowStart,
				rows:     s.rows,
				wbase:    uint32(s.wbase),
			})
		}
		row += p.Rows
	}
	if row != w.Out {
		return nil, fmt.Errorf("gpuops: weight parts hold %d rows, the weight has %d", row, w.Out)
	}
	return out, nil
}
