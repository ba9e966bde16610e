// Package dtype names the tensor element types Doppler reads and writes, with
// llama.cpp's (ggml's) numeric ids so GGUF type fields map directly.
package dtype

import (
	"fmt"
	"math"
	"strings"
)

// DType is a ggml tensor type id (ggml.h enum ggml_type).
type DType uint32

const (
	F32  DType = 0
	F16  DType = 1
	Q4_0 DType = 2
	Q4_1 DType = 3
	Q5_0 DType = 6
	Q5_1 DType = 7
	Q8_0 DType = 8
	Q8_1 DType = 9
	Q2_K DType = 10
	Q3_K DType = 11
	Q4_K DType = 12
	Q5_K DType = 13
	Q6_K DType = 14
	Q8_K DType = 15
	I8   DType = 24
	I16  DType = 25
	I32  DType = 26
	I64  DType = 27
	F64  DType = 28
	BF16 DType = 30
)

type info struct {
	name      string
	blockSize int // elements per block
	typeSize  int // bytes per block
}

var infos = map[DType]info{
	F32:  {"F32", 1, 4},
	F16:  {"F16", 1, 2},
	BF16: {"BF16", 1, 2},
	F64:  {"F64", 1, 8},
	I8:   {"I8", 1, 1},
	I16:  {"I16", 1, 2},
	I32:  {"I32", 1, 4},
	I64:  {"I64", 1, 8},
	Q4_0: {"Q4_0", 32, 2 + 16},
	Q4_1: {"Q4_1", 32, 2 + 2 + 16},
	Q5_0: {"Q5_0", 32, 2 + 4 + 16},
	Q5_1: {"Q5_1", 32, 2 + 2 + 4 + 16},
	Q8_0: {"Q8_0", 32, 2 + 32},
	Q8_1: {"Q8_1", 32, 4 + 4 + 32},
	Q2_K: {"Q2_K", 256, 256/16 + 256/4 + 2 + 2},
	Q3_K: {"Q3_K", 256, 256/8 + 256/4 + 12 + 2},
	Q4_K: {"Q4_K", 256, 2 + 2 + 12 + 256/2},
	Q5_K: {"Q5_K", 256, 2 + 2 + 12 + 256/8 + 256/2},
	Q6_K: {"Q6_K", 256, 256/2 + 256/4 + 256/16 + 2},
	Q8_K: {"Q8_K", 256, 4 + 256 + 256/16*2},
}

// Known reports whether d is a type this package describes.
func (d DType) Known() bool { _, ok := infos[d]; return ok }

func (d DType) String() string {
	if i, ok := infos[d]; ok {
		return i.name
	}
	return fmt.Sprintf("dtype(%d)", uint32(d))
}

// BlockSize is the number of elements in one quantization block (1 for plain types).
func (d DType) BlockSize() int { return infos[d].blockSize }

// TypeSize is the number of bytes of one block.
func (d DType) TypeSize() int { return infos[d].typeSize }

// Quantized reports whether d is a block-quantized type.
func (d DType) Quantized() bool { return infos[d].blockSize > 1 }

// RowBytes returns the byte size of n elements, or an error if n is not a
// multiple of the block size or d is unknown.
func (d DType) RowBytes(n int64) (int64, error) {
	i, ok := infos[d]
	if !ok {
		return 0, fmt.Errorf("unknown tensor type %d", uint32(d))
	}
	if n < 0 || n%int64(i.blockSize) != 0 {
		return 0, fmt.Errorf("%s: %d elements is not a multiple of the block size %d", i.name, n, i.blockSize)
	}
	blocks := n / int64(i.blockSize)
	if blocks > math.MaxInt64/int64(i.typeSize) {
		return 0, fmt.Errorf("%s: %d elements overflow a byte count", i.name, n)
	}
	return blocks * int64(i.typeSize), nil
}

// Parse reads a type name case-insensitively ("q4_k", "F16", "bf16").
func Parse(s string) (DType, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	for d, i := range infos {
		if i.name == u {
			return d, nil
		}
	}
	return 0, fmt.Errorf("unknown tensor type %q", s)
}
