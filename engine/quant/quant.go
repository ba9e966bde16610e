package quant

import (
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/doppler-engine/doppler/engine/dtype"
)

// encoders quantize one block: they read exactly BlockSize values and write
// exactly TypeSize bytes (every byte, so the destination need not be
// zeroed).
var encoders = map[dtype.DType]func(x []float32, b []byte){
	dtype.Q4_0: encodeQ4_0,
	dtype.Q4_1: encodeQ4_1,
	dtype.Q5_0: encodeQ5_0,
	dtype.Q5_1: encodeQ5_1,
	dtype.Q8_0: encodeQ8_0,
	dtype.Q2_K: encodeQ2_K,
	dtype.Q3_K: encodeQ3_K,
	dtype.Q4_K: encodeQ4_K,
	dtype.Q5_K: encodeQ5_K,
	dtype.Q6_K: encodeQ6_K,
	dtype.Q8_K: encodeQ8_K,
}

// decodable lists the block types decodeBlock handles.
var decodable = map[dtype.DType]bool{
	dtype.Q4_0: true, dtype.Q4_1: true, dtype.Q5_0: true, dtype.Q5_1: true, dtype.Q8_0: true,
	dtype.Q2_K: true, dtype.Q3_K: true, dtype.Q4_K: true, dtype.Q5_K: true, dtype.Q6_K: true, dtype.Q8_K: true,
}

// CanDequantize reports whether Dequantize supports t.
func CanDequantize(t dtype.DType) bool {
	if isPlain(t) {
		return true
	}
	return decodable[t]
}

// CanQuantize reports whether Quantize supports t.
func CanQuantize(t dtype.DType) bool {
	if isPlain(t) {
		return true
	}
	return encoders[t] != nil
}

func isPlain(t dtype.DType) bool { return t == dtype.F32 || t == dtype.F16 || t == dtype.BF16 }

// Dequantize decodes len(dst) elements of type t from src into dst.
// len(src) must be exactly t.RowBytes(len(dst)).
func Dequantize(t dtype.DType, src []byte, dst []float32) error {
	n := len(dst)
	if err := CheckRow(t, src, n); err != nil {
		return err
	}
	switch t {
	case dtype.F32:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
		return nil
	case dtype.F16:
		for i := range dst {
			dst[i] = f16Table[binary.LittleEndian.Uint16(src[2*i:])]
		}
		return nil
	case dtype.BF16:
		for i := range dst {
			dst[i] = BF16ToF32(binary.LittleEndian.Uint16(src[2*i:]))
		}
		return nil
	}
	bs, ts := t.BlockSize(), t.TypeSize()
	for b := 0; b < n/bs; b++ {
		decodeBlock(t, src[b*ts:(b+1)*ts], dst[b*bs:(b+1)*bs])
	}
	return nil
}

// decodeBlock decodes one block. A switch of direct calls, not the codecs
// table, so escape analysis can see that y is not retained (Dot decodes into
// a stack array).
func decodeBlock(t dtype.DType, b []byte, y []float32) {
	switch t {
	case dtype.Q4_0:
		decodeQ4_0(b, y)
	case dtype.Q4_1:
		decodeQ4_1(b, y)
	case dtype.Q5_0:
		decodeQ5_0(b, y)
	case dtype.Q5_1:
		decodeQ5_1(b, y)
	case dtype.Q8_0:
		decodeQ8_0(b, y)
	case dtype.Q2_K:
		decodeQ2_K(b, y)
	case dtype.Q3_K:
		decodeQ3_K(b, y)
	case dtype.Q4_K:
		decodeQ4_K(b, y)
	case dtype.Q5_K:
		decodeQ5_K(b, y)
	case dtype.Q6_K:
		decodeQ6_K(b, y)
	case dtype.Q8_K:
		decodeQ8_K(b, y)
	default:
		panic("quant: no decoder for " + t.String())
	}
}

// ToFloat32 decodes n elements of type t from src into a new slice.
func ToFloat32(t dtype.DType, src []byte, n int) ([]float32, error) {
	if n < 0 {
		return nil, fmt.Errorf("quant: negative element count %d", n)
	}
	dst := make([]float32, n)
	if err := Dequantize(t, src, dst); err != nil {
		return nil, err
	}
	return dst, nil
}

// Quantize encodes src in llama.cpp's layout for t and returns the bytes.
// len(src) must be a multiple of t's block size. Block-quantized types reject
// NaN and infinite inputs (llama.cpp would write a block it later refuses to
// load); F32, F16 and BF16 convert them like ggml does.
func Quantize(t dtype.DType, src []float32) ([]byte, error) {
	if !CanQuantize(t) {
		return nil, fmt.Errorf("quant: cannot encode tensor type %v", t)
	}
	size, err := t.RowBytes(int64(len(src)))
	if err != nil {
		return nil, fmt.Errorf("quant: %w", err)
	}
	dst := make([]byte, size)
	switch t {
	case dtype.F32:
		for i, v := range src {
			binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(v))
		}
		return dst, nil
	case dtype.F16:
		for i, v := range src {
			binary.LittleEndian.PutUint16(dst[2*i:], F32ToF16(v))
		}
		return dst, nil
	case dtype.BF16:
		for i, v := range src {
			binary.LittleEndian.PutUint16(dst[2*i:], F32ToBF16(v))
		}
		return dst, nil
	}
	for i, v := range src {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("quant: %v: element %d is %v; only finite values can be quantized", t, i, v)
		}
	}
	enc := encoders[t]
	bs, ts := t.BlockSize(), t.TypeSize()
	encodeRange := func(from, to int) {
		for b := from; b < to; b++ {
			enc(src[b*bs:(b+1)*bs], dst[b*ts:(b+1)*ts])
		}
	}
	// Blocks are independent, so large tensors are split across CPUs; the
	// bytes do not depend on the split.
	nb := len(src) / bs
	workers := min(runtime.GOMAXPROCS(0), len(src)/parallelMin)
	if workers < 2 {
		encodeRange(0, nb)
		return dst, nil
	}
	var wg sync.WaitGroup
	per := (nb + workers - 1) / workers
	for from := 0; from < nb; from += per {
		wg.Go(func() { encodeRange(from, min(nb, from+per)) })
	}
	wg.Wait()
	return dst, nil
}

// parallelMin is the number of elements per worker below which Quantize
// stays on one goroutine.
const parallelMin = 1 << 16

// f16At reads a little-endian half at b[i:] as float32.
func f16At(b []byte, i int) float32 { return f16Table[binary.LittleEndian.Uint16(b[i:])] }

// putF16 writes f as a little-endian half at b[i:].
func putF16(b []byte, i int, f float32) { binary.LittleEndian.PutUint16(b[i:], F32ToF16(f)) }
