package store

// CatalogEntry is a model the UI offers for download: a public GGUF file.
type CatalogEntry struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Architecture string `json:"architecture"` // GGUF general.architecture
	Quantization string `json:"quantization"`
	// Bytes is the file's size as its model card states it (rounded there):
	// shown to the user and used for the quota check until the server
	// gives the exact Content-Length.
	Bytes   int64  `json:"bytes"`
	License string `json:"license"`
	URL     string `json:"url"`
	// SHA256 of the whole file, checked after download when set.
	SHA256 string `json:"sha256,omitempty"`
}

const (
	gemmaTerms     = "Gemma Terms of Use (https://ai.google.dev/gemma/terms)"
	apache2        = "Apache-2.0"
	llama32License = "Llama 3.2 Community License (https://www.llama.com/llama3_2/license/)"
)

// Catalog lists the models offered for download. These build machines
// cannot reach Hugging Face, so each entry was checked through the
// project's search index of public pages instead; no SHA-256 is recorded
// (the shard hashes still are checked) and Bytes is the size Hugging Face
// displays (decimal, rounded): the download learns the exact size from the
// server. What each entry's check covered is noted beside it.
var Catalog = []CatalogEntry{
	{
		// Repository seen (unsloth, Gemma Terms, Q8_0 about 0.27-0.29 GB on
		// a model listing page); the file name follows unsloth's naming and
		// was not seen in a file listing.
		ID: "gemma-3-270m-it-q8_0", Name: "Gemma 3 270M Instruct", Architecture: "gemma3", Quantization: "Q8_0",
		Bytes: 292_000_000, License: gemmaTerms,
		URL: "https://huggingface.co/unsloth/gemma-3-270m-it-GGUF/resolve/main/gemma-3-270m-it-Q8_0.gguf",
	},
	{
		// File and size seen in the repository's file listing (806 MB).
		ID: "gemma-3-1b-it-q4_k_m", Name: "Gemma 3 1B Instruct", Architecture: "gemma3", Quantization: "Q4_K_M",
		Bytes: 806_000_000, License: gemmaTerms,
		URL: "https://huggingface.co/unsloth/gemma-3-1b-it-GGUF/resolve/main/gemma-3-1b-it-Q4_K_M.gguf",
	},
	{
		// File and size seen in the repository's file listing (1.71 GB).
		ID: "gemma-2-2b-it-q4_k_m", Name: "Gemma 2 2B Instruct", Architecture: "gemma2", Quantization: "Q4_K_M",
		Bytes: 1_710_000_000, License: gemmaTerms,
		URL: "https://huggingface.co/bartowski/gemma-2-2b-it-GGUF/resolve/main/gemma-2-2b-it-Q4_K_M.gguf",
	},
	{
		// Repository seen (Qwen's own GGUF repository, Apache-2.0); file name
		// and size (0.6B parameters at 8.5 bits) not seen in a file listing.
		ID: "qwen3-0.6b-q8_0", Name: "Qwen3 0.6B", Architecture: "qwen3", Quantization: "Q8_0",
		Bytes: 639_000_000, License: apache2,
		URL: "https://huggingface.co/Qwen/Qwen3-0.6B-GGUF/resolve/main/Qwen3-0.6B-Q8_0.gguf",
	},
	{
		// File and size seen in the repository's file listing (808 MB).
		ID: "llama-3.2-1b-instruct-q4_k_m", Name: "Llama 3.2 1B Instruct", Architecture: "llama", Quantization: "Q4_K_M",
		Bytes: 808_000_000, License: llama32License,
		URL: "https://huggingface.co/bartowski/Llama-3.2-1B-Instruct-GGUF/resolve/main/Llama-3.2-1B-Instruct-Q4_K_M.gguf",
	},
}

// Lookup returns the catalog entry id.
func Lookup(id string) (CatalogEntry, bool) {
	for _, e := range Catalog {
		if e.ID == id {
			return e, true
		}
	}
	return CatalogEntry{}, false
}
