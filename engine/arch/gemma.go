package arch

import "github.com/doppler-engine/doppler/engine/model"

// Gemma (1): Llama's block with embeddings scaled by sqrt(hidden), GeGLU
// (tanh GELU), NeoX RoPE and tied embeddings. Norm weights arrive as the
// effective multiplier (1 + w), so every RMSNorm here is plain x*w.
type Gemma struct {
	base

	Embed  Tensor       `gguf:"token_embd"`
	Norm   Tensor       `gguf:"output_norm"`
	Output Tensor       `gguf:"output,alt=token_embd"`
	Layers []gemmaLayer `gguf:"blk"`
}

type gemmaLayer struct {
	AttnNorm Tensor `gguf:"attn_norm"`
	Q        Tensor `gguf:"attn_q"`
	K        Tensor `gguf:"attn_k"`
	V        Tensor `gguf:"attn_v"`
	O        Tensor `gguf:"attn_output"`
	FFNNorm  Tensor `gguf:"ffn_norm"`
	Gate     Tensor `gguf:"ffn_gate"`
	Up       Tensor `gguf:"ffn_up"`
	Down     Tensor `gguf:"ffn_down"`
}

func init() {
	register(model.ArchGemma, func(cfg *model.Config) Model { return &Gemma{base: base{cfg: cfg}} })
}

func (m *Gemma) Forward(op Ops, b *Batch, c *Cache) Tensor {
	cfg := m.cfg
	x := op.Scale(op.Embed(m.Embed, b.Tokens), m.embedScale())
	for i, l := range m.Layers {
		h := op.RMSNorm(x, l.AttnNorm, eps(cfg))
		h = selfAttention(op, cfg, i, attention{Q: l.Q, K: l.K, V: l.V, O: l.O}, h, m.ropeFreqs(i), b, c)
		x = op.Add(x, h)

		h = op.RMSNorm(x, l.FFNNorm, eps(cfg))
		h = gatedFFN(op, h, l.Gate, l.Up, l.Down, activation(cfg, GELUTanh))
		x = op.Add(x, h)
	}
	return head(op, x, m.Norm, m.Output, cfg, b)
}
