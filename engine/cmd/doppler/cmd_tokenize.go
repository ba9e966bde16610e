package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/engine/tokenizer"
)

func init() {
	register(&command{
		name:    "tokenize",
		summary: "turn text into the model's token ids",
		run:     runTokenize,
	})
}

func runTokenize(fs *flag.FlagSet, args []string, out *output) error {
	modelPath := fs.String("model", "", "model: .gguf file (vocab-only too), HF folder or shard folder")
	batch := fs.String("batch", "", "JSON file holding an array of strings to tokenize")
	noSpecial := fs.Bool("no-special", false, "add no BOS/EOS (llama.cpp's add_special=false)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *modelPath == "" {
		return usagef("--model is required")
	}
	if (*batch == "") == (len(pos) != 1) {
		return usagef("give exactly one of TEXT or --batch FILE.json")
	}
	var texts []string
	if *batch != "" {
		b, err := os.ReadFile(*batch)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &texts); err != nil {
			return fmt.Errorf("--batch %s: want a JSON array of strings: %w", *batch, err)
		}
	} else {
		texts = pos
	}
	tok, err := loadTokenizer(*modelPath)
	if err != nil {
		return err
	}
	all := make([][]int32, len(texts))
	for i, s := range texts {
		// User text: special-token strings stay plain text.
		all[i] = tok.Encode(s, !*noSpecial)
	}
	var v any = map[string]any{"tokens": all[0]}
	if *batch != "" {
		v = map[string]any{"tokens": all}
	}
	return out.Emit(v, func(w io.Writer) {
		for _, ids := range all {
			for i, id := range ids {
				if i > 0 {
					fmt.Fprint(w, " ")
				}
				fmt.Fprintf(w, "%d", id)
			}
			fmt.Fprintln(w)
		}
	})
}

// loadTokenizer reads a model's tokenizer: .gguf files directly (vocab-only
// files have no tensors for model.Open to check), folders (HF or shards)
// through model.Open's GGUF-style metadata.
func loadTokenizer(path string) (*tokenizer.Tokenizer, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	if !st.IsDir() {
		return tokenizer.LoadGGUF(path)
	}
	src, err := model.Open(path)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	return tokenizer.FromMetadata(src.Metadata())
}
