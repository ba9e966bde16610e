package runtime

import (
	"fmt"
	"strings"
)

// PlanEntry is one op of a recorded step: which kernel runs it, on weights of
// which dtype, with which activation precision.
type PlanEntry struct {
	Layer     int    `json:"layer"` // -1 outside the transformer blocks
	Op        string `json:"op"`
	Kernel    string `json:"kernel"`
	DType     string `json:"dtype"` // the weight's dtype, or the input's
	Precision string `json:"precision"`
	Weight    string `json:"weight,omitempty"`
	// Weight2 is the second weight a fused op reads (matmul+glu's up).
	Weight2 string `json:"weight2,omitempty"`
	Weight3 string `json:"weight3,omitempty"`
}

// Plan is the kernel choice of one step shape, op by op, as recorded.
type Plan struct {
	Shape   string      `json:"shape"`
	Phase   string      `json:"phase"` // "prefill" (several rows per sequence) or "decode"
	Entries []PlanEntry `json:"entries"`
}

func (p *Plan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "plan %s (%s): %d ops\n", p.Shape, p.Phase, len(p.Entries))
	for _, e := range p.Entries {
		layer := "  -"
		if e.Layer >= 0 {
			layer = fmt.Sprintf("%3d", e.Layer)
		}
		fmt.Fprintf(&b, "%s %-10s %-22s %-6s %s", layer, e.Op, e.Kernel, e.DType, e.Precision)
		if e.Weight != "" {
			fmt.Fprintf(&b, "  %s", e.Weight)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// PlanError is a kernel paired with an input it cannot read.
type PlanError struct {
	Kernel, Input, Producer, Want, Got string
}

func (e *PlanError) Error() string {
	return fmt.Sprintf("plan: kernel %s reads its %s as %s, but %s wrote it as %s", e.Kernel, e.Input, e.Want, e.Producer, e.Got)
}

// layerOf reads the block index of a GGUF tensor name ("blk.3.attn_q.weight" → 3), -1 when none.
func layerOf(name string) int {
	rest, ok := strings.CutPrefix(name, "blk.")
	if !ok {
		return -1
	}
	n := 0
	i := 0
	for ; i < len(rest) && rest[i] >= '0' && rest[i] <= '9'; i++ {
		n = n*10 + int(rest[i]-'0')
	}
	if i == 0 {
		return -1
	}
	return n
}
