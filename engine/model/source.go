// Package model holds what every model file format has in common once read:
// the normalized hyper-parameters (Config), the tensor list in llama.cpp's
// naming and dimension order, and raw tensor bytes in llama.cpp's layouts.
//
// Canonical conventions every Source must present, whatever the file format:
//   - Tensor names are GGUF names ("token_embd.weight", "blk.3.attn_q.weight").
//   - Shapes are in ggml order: Shape[0] is the contiguous (innermost) dimension,
//     so a linear layer out×in is Shape{in, out}.
//   - Norm weights are the effective multiplier: Gemma's (1 + w) is already
//     applied (llama.cpp's GGUF converter does this; HF loaders add the 1).
//   - Q/K projection rows are in the order the architecture's RoPE style expects
//     (llama/mixtral: llama.cpp's permuted "normal" RoPE; gemma*, qwen3*: NeoX).
package model

import "github.com/doppler-engine/doppler/engine/dtype"

// TensorInfo describes one stored tensor.
type TensorInfo struct {
	Name  string      `json:"name"`
	Shape []int64     `json:"shape"` // ggml order
	DType dtype.DType `json:"-"`
}

// Elements is the product of the shape.
func (t TensorInfo) Elements() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Bytes is the stored size of the tensor.
func (t TensorInfo) Bytes() (int64, error) { return t.DType.RowBytes(t.Elements()) }

// Source is a readable model: a GGUF file, an HF folder or a shard folder.
type Source interface {
	// Config returns the normalized hyper-parameters.
	Config() *Config
	// Tensors lists every tensor in a stable order.
	Tensors() []TensorInfo
	// ReadTensor returns a tensor's bytes in its stored dtype and llama.cpp layout.
	ReadTensor(name string) ([]byte, error)
	// Metadata returns GGUF-style key/values (general.*, tokenizer.ggml.*,
	// tokenizer.chat_template), with gguf package value types. HF folders
	// translate tokenizer.json into the same keys when it is present.
	Metadata() map[string]any
	Close() error
}
