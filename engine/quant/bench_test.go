package quant

import (
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/doppler-engine/doppler/engine/dtype"
)

// A 4096×4096 matrix, built once for all benchmarks.
const benchRows, benchCols = 4096, 4096

var benchData = sync.OnceValue(func() []float32 {
	r := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, benchRows*benchCols)
	for i := range x {
		x[i] = float32(r.NormFloat64()) * 0.02
	}
	return x
})

var benchQ4K = sync.OnceValue(func() []byte {
	b, err := Quantize(dtype.Q4_K, benchData())
	if err != nil {
		panic(err)
	}
	return b
})

// MB/s counts the quantized bytes read.
func BenchmarkDequantizeQ4K(b *testing.B) {
	q := benchQ4K()
	dst := make([]float32, benchRows*benchCols)
	b.SetBytes(int64(len(q)))
	for b.Loop() {
		if err := Dequantize(dtype.Q4_K, q, dst); err != nil {
			b.Fatal(err)
		}
	}
}

// MB/s counts the float32 bytes read.
func BenchmarkQuantizeQ4K(b *testing.B) {
	x := benchData()
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		if _, err := Quantize(dtype.Q4_K, x); err != nil {
			b.Fatal(err)
		}
	}
}

// A matrix-vector product row by row with Dot; MB/s counts the quantized bytes read.
func BenchmarkDotQ4K(b *testing.B) {
	q := benchQ4K()
	x := benchData()[:benchCols]
	rowBytes := len(q) / benchRows
	b.SetBytes(int64(len(q)))
	var sink float32
	for b.Loop() {
		for r := 0; r < benchRows; r++ {
			sink += Dot(dtype.Q4_K, q[r*rowBytes:(r+1)*rowBytes], x)
		}
	}
	_ = sink
}
