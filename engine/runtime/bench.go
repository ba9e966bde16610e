package runtime

// BenchReport is `doppler bench --json`.
type BenchReport struct {
	PrefillTokS         float64 `json:"prefill_tok_s"`
	DecodeTokS          float64 `json:"decode_tok_s"`
	TTFTms              float64 `json:"ttft_ms"`
	LoadMs              float64 `json:"load_ms"`
	GPUBytes            uint64  `json:"gpu_bytes"`
	DispatchesPerToken  float64 `json:"dispatches_per_token"`
	JSCallsPerToken     float64 `json:"js_calls_per_token"`
	WeightBytesPerToken float64 `json:"weight_bytes_per_token"`
	Device              string  `json:"device"`
}

// BenchOptions configure Bench.
type BenchOptions struct {
	PromptTokens, GenTokens int
	StepsPerSubmit          int
	Precision               string
}

// benchPrompt is a deterministic prompt of n ids spread over the vocabulary.
func benchPrompt(n, vocab int) []int32 {
	ids := make([]int32, n)
	for i := range ids {
		ids[i] = int32((i*7919 + 13) % vocab)
	}
	return ids
}
