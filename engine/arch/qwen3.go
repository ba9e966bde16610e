package arch

import "github.com/doppler-engine/doppler/engine/model"

// Qwen3 and Qwen3-MoE: Llama's block with per-head RMSNorm of q and k
// (plain multiplier, applied before RoPE) and NeoX RoPE. The MoE variant
// routes with softmax over all experts, top-k, then renormalizes when
// norm_topk_prob is set.
type Qwen3 struct {
	base

	Embed  Tensor       `gguf:"token_embd"`
	Norm   Tensor       `gguf:"output_norm"`
	Output Tensor       `gguf:"output,alt=token_embd"`
	Layers []qwen3Layer `gguf:"blk"`
}

type qwen3Layer struct {
	AttnNorm Tensor `gguf:"attn_norm"`
	Q        Tensor `gguf:"attn_q"`
	K        Tensor `gguf:"attn_k"`
	V        Tensor `gguf:"attn_v"`
	O        Tensor `gguf:"attn_output"`
	QNorm    Tensor `gguf:"attn_q_norm"`
	KNorm    Tensor `gguf:"attn_k_norm"`
	FFNNorm  Tensor `gguf:"ffn_norm"`

	Gate Tensor `gguf:"ffn_gate,if=dense"`
	Up   Tensor `gguf:"ffn_up,if=dense"`
	Down Tensor `gguf:"ffn_down,if=dense"`

	Router   Tensor `gguf:"ffn_gate_inp,if=moe"`
	GateExps Tensor `gguf:"ffn_gate_exps,if=moe"`
	UpExps   Tensor `gguf:"ffn_up_exps,if=moe"`
	DownExps Tensor `gguf:"ffn_down_exps,if=moe"`
}

func init() {
	newQwen3 := func(cfg *model.Config) Model { return &Qwen3{base: base{cfg: cfg}} }
	register(model.ArchQwen3, newQwen3)
	register(model.ArchQwen3MoE, newQwen3)
}

func (m *Qwen3) Forward(op Ops, b *Batch, c *Cache) Tensor {
	cfg := m.cfg
	x := op.Embed(m.Embed, b.Tokens)
	for i, l := range m.Layers {
		h := op.RMSNorm(x, l.AttnNorm, eps(cfg))
		h = selfAttention(op, cfg, i, attention{Q: l.Q, K: l.K, V: l.V, O: l.O, QNorm: l.QNorm, KNorm: l.KNorm}, h, m.ropeFreqs(i), b, c)
		x = op.Add(x, h)

		h = op.RMSNorm(x, l.FFNNorm, eps(cfg))
		if cfg.Experts > 0 {
			h = op.MoE(h, l.Router, l.GateExps, l.UpExps, l.DownExps, MoEParams{Used: cfg.ExpertsUsed, NormTopK: cfg.NormTopKProb, Act: SiLU})
		} else {
			h = gatedFFN(op, h, l.Gate, l.Up, l.Down, SiLU)
		}
		x = op.Add(x, h)
	}
	return head(op, x, m.Norm, m.Output, cfg, b)
}
