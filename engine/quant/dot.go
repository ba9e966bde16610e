package quant

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/doppler-engine/doppler/engine/dtype"
)

// Dot returns the dot product of one row of type t (len(x) elements encoded
// in row) with x, without allocating. Numeric convention: the result is
// exactly what Dequantize followed by
//
//	var s float32
//	for i := range x { s += dq[i] * x[i] }
//
// computes: float32 products, accumulated in order i = 0..n-1, never fused.
// It panics if len(row) is not t.RowBytes(len(x)) or t cannot be decoded,
// as a slice index out of range would; use CheckRow once per tensor first.
func Dot(t dtype.DType, row []byte, x []float32) float32 {
	if err := CheckRow(t, row, len(x)); err != nil {
		panic(err)
	}
	var s float32
	switch t {
	case dtype.F32:
		for i, v := range x {
			s += float32(math.Float32frombits(binary.LittleEndian.Uint32(row[4*i:])) * v)
		}
		return s
	case dtype.F16:
		for i, v := range x {
			s += float32(f16Table[binary.LittleEndian.Uint16(row[2*i:])] * v)
		}
		return s
	case dtype.BF16:
		for i, v := range x {
			s += float32(BF16ToF32(binary.LittleEndian.Uint16(row[2*i:])) * v)
		}
		return s
	}
	var buf [256]float32
	bs, ts := t.BlockSize(), t.TypeSize()
	blk := buf[:bs]
	for b := 0; b < len(x)/bs; b++ {
		decodeBlock(t, row[b*ts:(b+1)*ts], blk)
		xs := x[b*bs : (b+1)*bs]
		for i, v := range blk {
			s += float32(v * xs[i])
		}
	}
	return s
}

// CheckRow reports whether row holds exactly n elements of a type Dequantize
// and Dot can decode.
func CheckRow(t dtype.DType, row []byte, n int) error {
	if !CanDequantize(t) {
		return fmt.Errorf("quant: cannot decode tensor type %v", t)
	}
	want, err := t.RowBytes(int64(n))
	if err != nil {
		return fmt.Errorf("quant: %w", err)
	}
	if int64(len(row)) != want {
		return fmt.Errorf("quant: %v: %d elements need %d bytes, got %d", t, n, want, len(row))
	}
	return nil
}
