package runtime

import "github.com/doppler-engine/doppler/engine/sample"

// BenchReport is `doppler bench --json`.
type BenchReport struct {
	PrefillTokS float64 `json:"prefill_tok_s"`
	DecodeTokS  float64 `json:"decode_tok_s"`
	TTFTms      float64 `json:"ttft_ms"`
	// TTFTNewLengthMs is the time to first token of a prompt one token
	// shorter, the first of its length the session sees: what a user's next
	// prompt, of a length not run before, waits (absent for 1-token prompts).
	TTFTNewLengthMs     float64 `json:"ttft_new_length_ms,omitempty"`
	LoadMs              float64 `json:"load_ms"`
	GPUBytes            uint64  `json:"gpu_bytes"`
	DispatchesPerToken  float64 `json:"dispatches_per_token"`
	JSCallsPerToken     float64 `json:"js_calls_per_token"`
	WeightBytesPerToken float64 `json:"weight_bytes_per_token"`
	Device              string  `json:"device"`
	// Precision of the activations (f32 or f16; absent from the CPU
	// reference's report).
	Precision string `json:"precision,omitempty"`
	// Serial: each decode submission was read back before the next.
	Serial bool `json:"serial,omitempty"`
	// Temperature the decoded tokens were sampled at (bench --temperature;
	// absent = greedy).
	Temperature float64 `json:"temperature,omitempty"`
	// Context is the session's positions where bench --context set them.
	Context int           `json:"context,omitempty"`
	Profile *BenchProfile `json:"profile,omitempty"`
}

// BenchProfile is bench --profile: the timed decode's replays, then a
// second decode with every dispatch in its own timed pass.
type BenchProfile struct {
	Decode ReplayTimes `json:"decode"`
	Ops    ReplayTimes `json:"ops"`
	// Prefill is one prompt chunk of PrefillRows rows, launch by launch.
	Prefill     ReplayTimes `json:"prefill"`
	PrefillRows int         `json:"prefill_rows"`
}

// ReplayTimes are a graph's replays as profiled: per replay on average.
type ReplayTimes struct {
	Replays  int     `json:"replays"`
	Steps    int     `json:"steps,omitempty"` // decode steps per replay (divide by it for per-token figures)
	EncodeMs float64 `json:"encode_ms"`       // JS: writing inputs, encoding and submitting
	SubmitMs float64 `json:"submit_ms"`       // of EncodeMs, queue.submit alone (Dawn records the native commands there)
	WaitMs   float64 `json:"wait_ms"`         // submit to the read-back in JS's hands
	GPUMs    float64 `json:"gpu_ms"`          // GPU timestamps: first pass begin to last pass end
	// Ops (ops mode only): GPU time by op kind, most first.
	Ops []OpTime `json:"ops,omitempty"`
}

// OpTime is the GPU time of one op kind per replay, each dispatch in its
// own pass.
type OpTime struct {
	Op         string  `json:"op"`
	Kernel     string  `json:"kernel"`
	Dispatches int     `json:"dispatches"`
	Ms         float64 `json:"ms"`
}

// BenchOptions configure Bench.
type BenchOptions struct {
	PromptTokens, GenTokens int
	StepsPerSubmit          int
	Precision               string
	Serial                  bool // see GenOptions.Serial
	Profile                 bool // fill BenchReport.Profile (needs timestamp-query)
	MaxChunk                int  // prompt rows per step (LoadOptions.MaxChunk; 0 = the default)
	// Context is the session's positions (0: the prompt, the generated
	// tokens and a submission's steps; more times a short history in a
	// long cache, as the extension's reused session runs it).
	Context int
	// Sampling of the decoded tokens (zero = greedy); on the GPU either way.
	Sampling sample.Params
}

// benchPrompt is a deterministic prompt of n ids spread over the vocabulary.
func benchPrompt(n, vocab int) []int32 {
	ids := make([]int32, n)
	for i := range ids {
		ids[i] = int32((i*7919 + 13) % vocab)
	}
	return ids
}
