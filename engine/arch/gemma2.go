package arch

import "github.com/doppler-engine/doppler/engine/model"

// Gemma 2: Gemma with "sandwich" norms (each sub-block's output is normed
// again before the residual add), attention-logit softcap tanh(s/50)*50,
// final-logit softcap tanh(l/30)*30, query_pre_attn_scalar^-0.5 attention
// scale, and alternating sliding-window (even layers) and global layers.
type Gemma2 struct {
	base

	Embed  Tensor        `gguf:"token_embd"`
	Norm   Tensor        `gguf:"output_norm"`
	Output Tensor        `gguf:"output,alt=token_embd"`
	Layers []gemma2Layer `gguf:"blk"`
}

type gemma2Layer struct {
	AttnNorm     Tensor `gguf:"attn_norm"`
	Q            Tensor `gguf:"attn_q"`
	K            Tensor `gguf:"attn_k"`
	V            Tensor `gguf:"attn_v"`
	O            Tensor `gguf:"attn_output"`
	PostAttnNorm Tensor `gguf:"post_attention_norm"`
	FFNNorm      Tensor `gguf:"ffn_norm"`
	Gate         Tensor `gguf:"ffn_gate"`
	Up           Tensor `gguf:"ffn_up"`
	Down         Tensor `gguf:"ffn_down"`
	PostFFNNorm  Tensor `gguf:"post_ffw_norm"`
}

func init() {
	register(model.ArchGemma2, func(cfg *model.Config) Model { return &Gemma2{base: base{cfg: cfg}} })
}

// Forward: the softcaps and windows come from the config (attnParams, head).
func (m *Gemma2) Forward(op Ops, b *Batch, c *Cache) Tensor {
	cfg := m.cfg
	x := op.Scale(op.Embed(m.Embed, b.Tokens), m.embedScale())
	for i, l := range m.Layers {
		h := op.RMSNorm(x, l.AttnNorm, eps(cfg))
		h = selfAttention(op, cfg, i, attention{Q: l.Q, K: l.K, V: l.V, O: l.O}, h, m.ropeFreqs(i), b, c)
		h = op.RMSNorm(h, l.PostAttnNorm, eps(cfg))
		x = op.Add(x, h)

		h = op.RMSNorm(x, l.FFNNorm, eps(cfg))
		h = gatedFFN(op, h, l.Gate, l.Up, l.Down, activation(cfg, GELUTanh))
		h = op.RMSNorm(h, l.PostFFNNorm, eps(cfg))
		x = op.Add(x, h)
	}
	return head(op, x, m.Norm, m.Output, cfg, b)
}
