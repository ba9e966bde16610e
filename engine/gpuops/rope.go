package gpuops

import (
	"fmt"
	"math"
)

// RopeConfig is one rotation's static settings.
type RopeConfig struct {
	Neox  bool    // rotate halves (i, i+Dim/2) instead of adjacent pairs
	Dim   int     // rotated dims per head (≤ head dim; 0 = all)
	Theta float64 // base
	// Factors, when non-nil, divides each frequency (Dim/2 values: Llama 3's
	// rope_freqs).
	Factors []float32
}

// ropeFreqs returns the angle per position of each rotated pair,
// theta^(-2i/dim) / factor[i], computed in float64 like engine/ref.
func ropeFreqs(cfg RopeConfig, dim int) ([]float32, error) {
	if dim <= 0 || dim%2 != 0 {
		return nil, fmt.Errorf("gpuops: rope dims %d must be even and positive", dim)
	}
	if cfg.Factors != nil && len(cfg.Factors) != dim/2 {
		return nil, fmt.Errorf("gpuops: %d rope factors for %d rotated dims", len(cfg.Factors), dim)
	}
	f := make([]float32, dim/2)
	for i := range f {
		v := math.Pow(cfg.Theta, -float64(2*i)/float64(dim))
		if cfg.Factors != nil {
			v /= float64(cfg.Factors[i])
		}
		f[i] = float32(v)
	}
	return f, nil
}
