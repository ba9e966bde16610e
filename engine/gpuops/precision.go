package gpuops

import "fmt"

// Precision is the element type of activation buffers (hidden states, KV
// cache, logits). Weights keep their own packed dtype either way.
type Precision int

const (
	// F32 activations work on every WebGPU device.
	F32 Precision = iota
	// F16 activations need the shader-f16 feature; kernels still accumulate
	// norms, softmax and dot products in f32.
	F16
)

func (p Precision) String() string {
	if p == F16 {
		return "f16"
	}
	return "f32"
}

// Bytes is the size of one activation element.
func (p Precision) Bytes() int {
	if p == F16 {
		return 2
	}
	return 4
}

// wgslType is the WGSL scalar the ACT alias stands for.
func (p Precision) wgslType() string {
	if p == F16 {
		return "f16"
	}
	return "f32"
}

// ParsePrecision reads "f32" or "f16".
func ParsePrecision(s string) (Precision, error) {
	switch s {
	case "f32":
		return F32, nil
	case "f16":
		return F16, nil
	}
	return 0, fmt.Errorf("gpuops: unknown precision %q (want f32 or f16)", s)
}
