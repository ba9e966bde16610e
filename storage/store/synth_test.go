package store

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/gguf"
	"github.com/hack-pad/hackpadfs"
	"github.com/stretchr/testify/require"
)

// synthLlama writes a llama-architecture GGUF of random F32 weights with
// the given layer count (hidden 512, FFN 1408, vocab 2048): about 12.6 MB
// a layer plus 8.4 MB of embeddings and output.
func synthLlama(t testing.TB, layers int) []byte {
	t.Helper()
	const hidden, ffn, vocab, heads, kvHeads = 512, 1408, 2048, 8, 4
	w := gguf.NewWriter()
	w.Set("general.architecture", "llama")
	w.Set("general.name", "synthetic")
	w.Set("llama.embedding_length", uint32(hidden))
	w.Set("llama.block_count", uint32(layers))
	w.Set("llama.attention.head_count", uint32(heads))
	w.Set("llama.attention.head_count_kv", uint32(kvHeads))
	w.Set("llama.feed_forward_length", uint32(ffn))
	w.Set("llama.context_length", uint32(2048))
	w.Set("llama.vocab_size", uint32(vocab))
	toks := make([]string, vocab)
	for i := range toks {
		toks[i] = fmt.Sprintf("t%d", i)
	}
	w.Set("tokenizer.ggml.model", "llama")
	w.Set("tokenizer.ggml.tokens", toks)
	rng := rand.New(rand.NewPCG(1, 2))
	add := func(name string, shape ...int64) {
		n := int64(1)
		for _, d := range shape {
			n *= d
		}
		require.NoError(t, w.AddTensorFunc(name, shape, dtype.F32, func(dst io.Writer) error {
			buf := make([]byte, n*4)
			for i := range buf {
				buf[i] = byte(rng.Uint32())
			}
			_, err := dst.Write(buf)
			return err
		}))
	}
	kv := int64(hidden / heads * kvHeads)
	add("token_embd.weight", hidden, vocab)
	for l := range layers {
		p := fmt.Sprintf("blk.%d.", l)
		add(p+"attn_norm.weight", hidden)
		add(p+"attn_q.weight", hidden, hidden)
		add(p+"attn_k.weight", hidden, kv)
		add(p+"attn_v.weight", hidden, kv)
		add(p+"attn_output.weight", hidden, hidden)
		add(p+"ffn_norm.weight", hidden)
		add(p+"ffn_gate.weight", hidden, ffn)
		add(p+"ffn_up.weight", hidden, ffn)
		add(p+"ffn_down.weight", ffn, hidden)
	}
	add("output_norm.weight", hidden)
	add("output.weight", hidden, vocab)
	require.NoError(t, w.Err())
	var out bytes.Buffer
	_, err := w.WriteTo(&out)
	require.NoError(t, err)
	return out.Bytes()
}

// importBench imports a ~59 MB synthetic GGUF into fsys per iteration and
// reports MB/s (download-side throughput: parse, shard, hash, verify).
func importBench(b *testing.B, fsys hackpadfs.FS) {
	data := synthLlama(b, 4)
	s, err := New(fsys, Options{Root: "bench-models", ShardSize: 16 << 20})
	require.NoError(b, err)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		m, err := s.Import(context.Background(), bytes.NewReader(data), int64(len(data)), "synth.gguf", nil)
		require.NoError(b, err)
		require.True(b, m.Ready)
		b.StopTimer()
		require.NoError(b, s.Delete(m.ID))
		b.StartTimer()
	}
}
