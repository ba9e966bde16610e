// Command oraclegguf writes vocab-only GGUF files from the committed HF
// tokenizers (engine/tokenizer/testdata/*/tokenizer.json.gz), through
// tokenizer.HFToMetadata and the gguf writer, so that llama.cpp can serve as
// a second reference in `make oracle` (build/oracle/tokenizer.sh).
//
//	go run ./engine/tokenizer/internal/oraclegguf -o DIR gemma3 gemma2 qwen3
package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/doppler-engine/doppler/engine/gguf"
	"github.com/doppler-engine/doppler/engine/internal/refdata"
	"github.com/doppler-engine/doppler/engine/tokenizer"
)

func main() {
	out := flag.String("o", "", "output folder")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: oraclegguf -o DIR VOCAB...")
		os.Exit(2)
	}
	for _, v := range flag.Args() {
		if err := write(v, filepath.Join(*out, v+".gguf")); err != nil {
			fmt.Fprintf(os.Stderr, "oraclegguf %s: %v\n", v, err)
			os.Exit(1)
		}
	}
}

func gunzip(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(z)
}

func write(vocab, dst string) error {
	dir := filepath.Join(refdata.RepoRoot(), "engine", "tokenizer", "testdata", vocab)
	tj, err := gunzip(filepath.Join(dir, "tokenizer.json.gz"))
	if err != nil {
		return err
	}
	tc, err := gunzip(filepath.Join(dir, "tokenizer_config.json.gz"))
	if err != nil {
		return err
	}
	m, err := tokenizer.HFToMetadata(tj, tc)
	if err != nil {
		return err
	}
	// llama.cpp needs a known architecture with its required
	// hyper-parameters even for a vocab-only load; the tokenizer does not
	// depend on them. llama.cpp reads SentencePiece-style vocabularies by
	// score and ignores the merges we also carry.
	w := gguf.NewWriter()
	w.Set("general.architecture", "llama")
	w.Set("general.name", "doppler-oracle-"+vocab)
	for k, v := range map[string]uint32{
		"llama.block_count": 1, "llama.context_length": 4096, "llama.embedding_length": 64,
		"llama.feed_forward_length": 128, "llama.attention.head_count": 2, "llama.attention.head_count_kv": 2,
		"llama.rope.dimension_count": 32, "llama.vocab_size": uint32(len(m[tokenizer.KeyTokens].([]string))),
	} {
		w.Set(k, v)
	}
	w.Set("llama.attention.layer_norm_rms_epsilon", float32(1e-6))
	for k, v := range m {
		if k == tokenizer.KeyChatTemplate {
			continue // keeps the file small; templates are tested separately
		}
		w.Set(k, v)
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, buf.Bytes(), 0o644)
}
