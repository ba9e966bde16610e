package arch

import "github.com/doppler-engine/doppler/engine/model"

// Llama (Llama 2/3, TinyLlama, stories) and Mixtral, which is Llama with a
// mixture-of-experts feed-forward (llama.cpp stores it as architecture
// "llama" with expert tensors). Llama 3's RoPE frequency scaling arrives
// through ropeFreqs (see rope.go).
type Llama struct {
	base

	Embed  Tensor       `gguf:"token_embd"`
	Norm   Tensor       `gguf:"output_norm"`
	Output Tensor       `gguf:"output,alt=token_embd"`
	Layers []llamaLayer `gguf:"blk"`
}

type llamaLayer struct {
	AttnNorm Tensor `gguf:"attn_norm"`
	Q        Tensor `gguf:"attn_q"`
	K        Tensor `gguf:"attn_k"`
	V        Tensor `gguf:"attn_v"`
	O        Tensor `gguf:"attn_output"`
	FFNNorm  Tensor `gguf:"ffn_norm"`
	// Dense feed-forward (Llama).
	Gate Tensor `gguf:"ffn_gate,if=dense"`
	Up   Tensor `gguf:"ffn_up,if=dense"`
	Down Tensor `gguf:"ffn_down,if=dense"`
	// Experts (Mixtral).
	Router   Tensor `gguf:"ffn_gate_inp,if=moe"`
	GateExps Tensor `gguf:"ffn_gate_exps,if=moe"`
	UpExps   Tensor `gguf:"ffn_up_exps,if=moe"`
	DownExps Tensor `gguf:"ffn_down_exps,if=moe"`
}

func init() {
	newLlama := func(cfg *model.Config) Model { return &Llama{base: base{cfg: cfg}} }
	register(model.ArchLlama, newLlama)
	register(model.ArchMixtral, newLlama)
}

func (m *Llama) Forward(op Ops, b *Batch, c *Cache) Tensor {
	cfg := m.cfg
	x := op.Embed(m.Embed, b.Tokens)
	for i, l := range m.Layers {
		h := op.RMSNorm(x, l.AttnNorm, eps(cfg))
		h = selfAttention(op, cfg, i, attention{Q: l.Q, K: l.K, V: l.V, O: l.O}, h, m.ropeFreqs(i), b, c)
		x = op.Add(x, h)

		h = op.RMSNorm(x, l.FFNNorm, eps(cfg))
		if cfg.Experts > 0 {
			// Mixtral: softmax over the top-k router logits = softmax, top-k, renormalize.
			h = op.MoE(h, l.Router, l.GateExps, l.UpExps, l.DownExps, MoEParams{Used: cfg.ExpertsUsed, NormTopK: true, Act: SiLU})
		} else {
			h = gatedFFN(op, h, l.Gate, l.Up, l.Down, SiLU)
		}
		x = op.Add(x, h)
	}
	return head(op, x, m.Norm, m.Output, cfg, b)
}
