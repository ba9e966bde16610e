package refdata

// llama.cpp's greedy run of stories260K on "Once upon a time", as
// ../shared/models/README.md records it. Functions, so that no test can
// change another's copy.

// Stories260KPrompt returns the prompt's ids: BOS, "▁Once", "▁upon", "▁a", "▁time".
func Stories260KPrompt() []int32 { return []int32{1, 403, 407, 261, 378} }

// Stories260KGreedy returns the 32 ids llama.cpp generated greedily after the prompt.
func Stories260KGreedy() []int32 {
	return []int32{432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337,
		410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394}
}
