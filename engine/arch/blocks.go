package arch

import (
	"math"

	"github.com/doppler-engine/doppler/engine/model"
)

// The building blocks every architecture shares. They are plain functions of
// ops, so each architecture's Forward still reads top to bottom.

// attention is one layer's attention projections. QNorm/KNorm are nil for
// architectures without per-head q/k RMSNorm.
type attention struct {
	Q, K, V, O   Tensor
	QNorm, KNorm Tensor
}

// selfAttention projects x to q, k, v per head, optionally RMS-normalizes q and
// k per head (Qwen3, Gemma 3: before RoPE), rotates them, attends through the
// layer's cache and projects back.
func selfAttention(op Ops, cfg *model.Config, layer int, a attention, x Tensor, freqs Tensor, b *Batch, c *Cache) Tensor {
	rows, hd := b.Rows(), cfg.HeadDim
	var q, k, v Tensor
	if p, ok := op.(QKVMatMuler); ok {
		q, k, v = p.MatMulQKV(x, a.Q, a.K, a.V)
	} else {
		q, k, v = op.MatMul(x, a.Q), op.MatMul(x, a.K), op.MatMul(x, a.V)
	}
	q = op.Reshape(q, rows, cfg.Heads, hd)
	k = op.Reshape(k, rows, cfg.KVHeads, hd)
	v = op.Reshape(v, rows, cfg.KVHeads, hd)
	rp := RopeParams{Style: cfg.RopeStyle, Dim: ropeDim(cfg), Theta: cfg.LayerRopeTheta(layer), Factors: freqs}
	if qk, ok := op.(QKRoper); ok {
		q, k = qk.RopeQK(q, k, a.QNorm, a.KNorm, b.Pos, eps(cfg), rp)
	} else {
		if a.QNorm != nil {
			q = op.RMSNorm(q, a.QNorm, eps(cfg))
			k = op.RMSNorm(k, a.KNorm, eps(cfg))
		}
		q = op.Rope(q, b.Pos, rp)
		k = op.Rope(k, b.Pos, rp)
	}
	o := op.Attention(q, k, v, c.Layers[layer], b, attnParams(cfg, layer))
	return op.MatMul(o, a.O)
}

// attnParams are layer's scale, softcap and window.
func attnParams(cfg *model.Config, layer int) AttnParams {
	scale := cfg.AttnScale
	if scale == 0 {
		scale = 1 / math.Sqrt(float64(cfg.HeadDim))
	}
	p := AttnParams{Scale: float32(scale), Softcap: float32(cfg.AttnSoftcap)}
	if cfg.IsSliding(layer) {
		p.Window = cfg.SlidingWindow
	}
	return p
}

// gatedFFN is down(act(gate(x)) * up(x)).
func gatedFFN(op Ops, x, gate, up, down Tensor, act Activation) Tensor {
	if f, ok := op.(GLUMatMuler); ok {
		return op.MatMul(f.MatMulGLU(x, gate, up, act), down)
	}
	return op.MatMul(op.GLU(op.MatMul(x, gate), op.MatMul(x, up), act), down)
}

// activation is the config's FFN activation (SwiGLU unless it says GeGLU).
func activation(cfg *model.Config, fallback Activation) Activation {
	switch cfg.Activation {
	case string(SiLU):
		return SiLU
	case string(GELUTanh), "gelu_pytorch_tanh", "gelu":
		return GELUTanh
	}
	return fallback
}

func eps(cfg *model.Config) float32 {
	if cfg.NormEps > 0 {
		return float32(cfg.NormEps)
	}
	return 1e-6
}

// head is the shared ending: keep the wanted rows, final norm, LM head.
func head(op Ops, x, norm, output Tensor, cfg *model.Config, b *Batch) Tensor {
	if b.Out != nil {
		x = op.Rows(x, b.Out)
	}
	x = op.RMSNorm(x, norm, eps(cfg))
	logits := op.MatMul(x, output)
	if cfg.FinalSoftcap > 0 {
		logits = op.Softcap(logits, float32(cfg.FinalSoftcap))
	}
	return logits
}

func sqrt32(v float32) float32 { return float32(math.Sqrt(float64(v))) }
