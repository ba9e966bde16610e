package arch

import "github.com/doppler-engine/doppler/engine/model"

// Gemma 3 (text): Gemma 2's sandwich block plus per-head q/k RMSNorm before
// RoPE, no softcaps (unless a config sets them), and local sliding-window
// layers (RoPE base 10k) interleaved with global ones (base 1M), 5:1 in the
// released models. The per-layer base and window come from the config.
type Gemma3 struct {
	base

	Embed  Tensor        `gguf:"token_embd"`
	Norm   Tensor        `gguf:"output_norm"`
	Output Tensor        `gguf:"output,alt=token_embd"`
	Layers []gemma3Layer `gguf:"blk"`
}

type gemma3Layer struct {
	AttnNorm     Tensor `gguf:"attn_norm"`
	Q            Tensor `gguf:"attn_q"`
	K            Tensor `gguf:"attn_k"`
	V            Tensor `gguf:"attn_v"`
	O            Tensor `gguf:"attn_output"`
	QNorm        Tensor `gguf:"attn_q_norm"`
	KNorm        Tensor `gguf:"attn_k_norm"`
	PostAttnNorm Tensor `gguf:"post_attention_norm"`
	FFNNorm      Tensor `gguf:"ffn_norm"`
	Gate         Tensor `gguf:"ffn_gate"`
	Up           Tensor `gguf:"ffn_up"`
	Down         Tensor `gguf:"ffn_down"`
	PostFFNNorm  Tensor `gguf:"post_ffw_norm"`
}

func init() {
	register(model.ArchGemma3, func(cfg *model.Config) Model { return &Gemma3{base: base{cfg: cfg}} })
}

func (m *Gemma3) Forward(op Ops, b *Batch, c *Cache) Tensor {
	cfg := m.cfg
	x := op.Scale(op.Embed(m.Embed, b.Tokens), m.embedScale())
	for i, l := range m.Layers {
		h := op.RMSNorm(x, l.AttnNorm, eps(cfg))
		h = selfAttention(op, cfg, i, attention{Q: l.Q, K: l.K, V: l.V, O: l.O, QNorm: l.QNorm, KNorm: l.KNorm}, h, m.ropeFreqs(i), b, c)
		h = op.RMSNorm(h, l.PostAttnNorm, eps(cfg))
		x = op.Add(x, h)

		h = op.RMSNorm(x, l.FFNNorm, eps(cfg))
		h = gatedFFN(op, h, l.Gate, l.Up, l.Down, activation(cfg, GELUTanh))
		h = op.RMSNorm(h, l.PostFFNNorm, eps(cfg))
		x = op.Add(x, h)
	}
	return head(op, x, m.Norm, m.Output, cfg, b)
}
