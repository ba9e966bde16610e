package safetensors

import (
	"fmt"

	"github.com/doppler-engine/doppler/engine/dtype"
)

// ggmlTypes maps the safetensors dtypes that have a ggml equivalent.
var ggmlTypes = map[string]dtype.DType{
	"F32": dtype.F32, "F16": dtype.F16, "BF16": dtype.BF16, "F64": dtype.F64,
	"I8": dtype.I8, "I16": dtype.I16, "I32": dtype.I32, "I64": dtype.I64,
}

// GGMLType returns the ggml type holding t's elements unchanged.
func (t Tensor) GGMLType() (dtype.DType, error) {
	if d, ok := ggmlTypes[t.DType]; ok {
		return d, nil
	}
	return 0, fmt.Errorf("safetensors: tensor %q: dtype %s has no ggml equivalent", t.Name, t.DType)
}

// GGMLShape is t's shape in ggml order (innermost first): the reverse of
// the row-major order safetensors stores.
func (t Tensor) GGMLShape() []int64 {
	s := make([]int64, len(t.Shape))
	for i, d := range t.Shape {
		s[len(s)-1-i] = d
	}
	return s
}
