package model

import (
	"strings"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/quant"
)

// DTypeTargets are the --dtype values convert and synth accept besides "keep".
var DTypeTargets = []string{"f32", "f16", "bf16", "q8_0", "q4_0", "q4_k", "q5_k", "q6_k", "q4_k_m"}

// TargetType picks the stored type of tensor t for a --dtype target:
// "keep" keeps it, anything else asks quant.ChooseType (norms and 1-D
// tensors stay F32; rows that do not fit a block size fall back).
func TargetType(target string, t TensorInfo, layers int) (dtype.DType, error) {
	target = strings.ToLower(target)
	if target == "" || target == "keep" {
		return t.DType, nil
	}
	return quant.ChooseType(target, t.Name, t.Shape, layers)
}

func toFloat32(t dtype.DType, data []byte, n int) ([]float32, error) {
	return quant.ToFloat32(t, data, n)
}

func fromFloat32(t dtype.DType, f []float32) ([]byte, error) { return quant.Quantize(t, f) }
