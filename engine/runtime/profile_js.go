//go:build js && wasm

package runtime

import (
	"fmt"
	"sort"

	"github.com/doppler-engine/doppler/engine/gpu"
	"github.com/hack-pad/safejs"
)

// maxQueries is WebGPU's largest timestamp query set (4096): graphs of more
// than half as many dispatches are timed as one pass only.
const maxQueries = 4096

// replayProfile times a graph's replays (Backend Profile): replay.js writes
// GPU timestamps around its pass (or, in ops mode, around every dispatch,
// each in its own pass) and sums them with its own JS times in js.
type replayProfile struct {
	cmds []PlanEntry // the plan entry of each replayed dispatch
	qs   safejs.Value
	res  *gpu.Buffer
	js   safejs.Value
}

// commands lists the plan entry of each dispatch replay.js encodes (the
// steps with work, in order).
func (g *graph) commands() []PlanEntry {
	var out []PlanEntry
	for _, it := range g.rec.items {
		for i, st := range it.d.Steps {
			if st.X == 0 {
				continue
			}
			e := it.entry
			if len(it.d.Steps) > 1 {
				e.Kernel = fmt.Sprintf("%s[%d]", e.Kernel, i) // its launches apart (e.g. append, attend, combine)
			}
			out = append(out, e)
		}
	}
	return out
}

// queries is the query set's size: two per dispatch, or two when that is
// over WebGPU's limit (then ops mode is unavailable).
func (p *replayProfile) queries() int {
	if n := 2 * len(p.cmds); n <= maxQueries {
		return max(n, 2)
	}
	return 2
}

// tsOff is where the timestamps follow readLen result bytes in a staging
// buffer (8-byte aligned for BigInt64Array).
func (p *replayProfile) tsOff(readLen uint64) uint64 { return (readLen + 7) &^ 7 }

func (p *replayProfile) build(be *Backend, g *graph) error {
	n := p.queries()
	qs, err := be.dev.Value().Call("createQuerySet", map[string]any{"type": "timestamp", "count": n})
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	p.qs = qs
	if p.res, err = be.pool.Get("timestamps", uint64(8*n), gpu.UsageQueryResolve|gpu.UsageCopySrc); err != nil {
		return err
	}
	f64, err := safejs.Global().Get("Float64Array")
	if err != nil {
		return err
	}
	opNs, err := f64.New(len(p.cmds))
	if err != nil {
		return err
	}
	if p.js, err = jsObject(map[string]any{
		"qs": safejs.Unsafe(qs), "res": safejs.Unsafe(p.res.Value()), "tsOff": float64(p.tsOff(g.readLen)),
		"ops": false, "opNs": safejs.Unsafe(opNs), "n": 0, "encodeMs": 0, "submitMs": 0, "waitMs": 0, "gpuNs": 0,
	}); err != nil {
		return err
	}
	if err := p.reset(false); err != nil {
		return err
	}
	return g.jsGraph.Set("prof", p.js)
}

// reset zeroes the sums and picks the mode: ops times every dispatch.
func (p *replayProfile) reset(ops bool) error {
	if ops && 2*len(p.cmds) > maxQueries {
		return fmt.Errorf("profile: %d dispatches are more than one query set can time one by one", len(p.cmds))
	}
	for k, v := range map[string]any{"n": 0, "encodeMs": 0, "submitMs": 0, "waitMs": 0, "gpuNs": 0, "ops": ops} {
		if err := p.js.Set(k, v); err != nil {
			return err
		}
	}
	ns, err := p.js.Get("opNs")
	if err != nil {
		return err
	}
	_, err = ns.Call("fill", 0)
	return err
}

// read returns the averages since the last reset.
func (p *replayProfile) read() (ReplayTimes, error) {
	num := func(k string) float64 {
		v, err := p.js.Get(k)
		if err != nil {
			return 0
		}
		f, _ := v.Float()
		return f
	}
	n := num("n")
	if n == 0 {
		return ReplayTimes{}, nil
	}
	t := ReplayTimes{Replays: int(n), EncodeMs: num("encodeMs") / n, SubmitMs: num("submitMs") / n, WaitMs: num("waitMs") / n, GPUMs: num("gpuNs") / n / 1e6}
	ops, _ := p.js.Get("ops")
	if on, _ := ops.Bool(); !on {
		return t, nil
	}
	ns, err := p.js.Get("opNs")
	if err != nil {
		return t, err
	}
	byKind := map[[2]string]*OpTime{}
	for i, e := range p.cmds {
		v, err := ns.Index(i)
		if err != nil {
			return t, err
		}
		f, _ := v.Float()
		k := [2]string{e.Op, e.Kernel + " " + e.DType}
		o := byKind[k]
		if o == nil {
			o = &OpTime{Op: e.Op, Kernel: k[1]}
			byKind[k] = o
		}
		o.Dispatches++
		o.Ms += f / n / 1e6
	}
	for _, o := range byKind {
		t.Ops = append(t.Ops, *o)
	}
	sort.Slice(t.Ops, func(i, j int) bool { return t.Ops[i].Ms > t.Ops[j].Ms })
	return t, nil
}

func (p *replayProfile) release(be *Backend) {
	be.pool.Put(p.res)
	if p.qs.Type() == safejs.TypeObject {
		qs := p.qs
		be.pool.Defer(func() { _, _ = qs.Call("destroy") })
	}
}
