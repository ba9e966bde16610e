//go:build js && wasm

package runtime

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/gpu"
	"github.com/doppler-engine/doppler/engine/gpuops"
	"github.com/hack-pad/safejs"
)

// graph is a recorded step shape: its dispatches, its step buffer and where
// its result is read back.
type graph struct {
	lay     stepLayout
	rec     *recording
	arena   *arena
	step    *gpu.Buffer
	logits  *Tensor // the last region's logits (not sampled)
	steps   []gpuops.Step
	staging *gpu.Buffer
	// staging2 is the read-back buffer of odd replays, so a replay can be
	// submitted while the previous one is still being read back.
	staging2 *gpu.Buffer
	// feed is the session's buffer that every sampling replay leaves its
	// last step's tokens in, for a chained replay to start from (nil for
	// logits graphs).
	feed    *gpu.Buffer
	readBuf *gpu.Buffer
	readOff uint64
	readLen uint64
	ran     bool // the first run is checked inside an error scope

	// JS side of the replay (unset when replay.js is not installed): the
	// graph object handed to dopplerReplay and the read-back array.
	jsGraph, jsOut safejs.Value
	jsDone         safejs.Func
	doneCh         chan replayDone
	seq            int // last replay started
	seen           int // last replay whose completion was consumed
	data           []int32
	prof           *replayProfile // nil unless the backend profiles
}

// replayDone is the completion replay.js reports through g.jsDone.
type replayDone struct {
	seq  int
	err  string
	ints []int32 // read-back int32 values (sampled tokens)
}

// capture records the model's Forward for layout lay (see doc.go for why the
// recording stays valid).
func (s *Session) capture(lay stepLayout) (g *graph, err error) {
	be := s.m.Backend
	g = &graph{lay: lay, arena: &arena{}, data: make([]int32, lay.size())}
	if g.step, err = be.pool.Get("step", uint64(4*lay.size()), gpu.UsageStorage|gpu.UsageCopyDst|gpu.UsageCopySrc); err != nil {
		return nil, err
	}
	g.rec = newRecording(be, g.arena)
	g.rec.span = lay.Span
	saved := be.rec
	be.rec = g.rec
	defer func() {
		be.rec = saved
		if p := recover(); p != nil {
			if e, ok := p.(error); ok {
				err = e
			} else {
				err = fmt.Errorf("recording the forward pass failed: %v", p)
			}
			g.release(be)
			g = nil
		}
	}()
	ints := func(off, n int, name string) *Tensor {
		return &Tensor{shape: []int{n}, dt: "i32", buf: g.step, off: off, name: name}
	}
	vocab := s.m.Config.VocabSize
	for r := 0; r < lay.R; r++ {
		g.arena.next = 0
		rows := lay.rows(r)
		b := &arch.Batch{B: lay.B, T: lay.t(r),
			Tokens: ints(lay.tokOff(r), rows, "step tokens"),
			Pos:    ints(lay.posOff(r), rows, "step positions"),
			Slots:  ints(lay.slotOff(r), lay.B, "step slots")}
		// One row per sequence is every row, in order: no gather, so the
		// last block's residual add fuses with the final norm.
		if lay.picksRows(r) {
			b.Out = ints(lay.outOff(r), lay.B, "step rows")
		}
		logits := gt(s.m.Arch.Forward(be, b, s.cache))
		switch {
		case lay.Draw:
			// Region r's rows sample with the histories of its slots and
			// write region r+1's tokens.
			be.input(logits, "sample", "logits", be.act)
			smp, cfg, hist := s.drawState()
			d, err := smp.Prepare(cfg, logits.binding(), hist.Binding(), gpu.Binding{Buffer: g.step}, lay.B, lay.slotOff(r), lay.tokOff(r+1))
			g.rec.add(d, err, PlanEntry{Layer: -1, Op: "sample", Kernel: "sample", DType: be.act})
		case lay.Sample:
			be.input(logits, "argmax", "logits", be.act)
			d, err := be.argmaxKernel().Prepare(logits.binding(), gpu.Binding{Buffer: g.step}, lay.tokOff(r+1), lay.B, vocab)
			g.rec.add(d, err, PlanEntry{Layer: -1, Op: "argmax", Kernel: "argmax", DType: be.act})
		default:
			g.logits = logits
		}
	}
	for _, it := range g.rec.items {
		g.steps = append(g.steps, it.d.Steps...)
	}
	if lay.Sample {
		g.readBuf, g.readOff, g.readLen = g.step, uint64(4*lay.tokOff(1)), uint64(4*lay.R*lay.B)
	} else {
		g.readBuf, g.readOff, g.readLen = g.logits.buf, 0, uint64(g.logits.numel()*be.prec.Bytes())
	}
	if lay.Sample {
		g.feed = s.feedBuffer()
	}
	stage := g.readLen
	if be.opts.Profile && be.dev.HasFeature(gpu.FeatureTimestampQuery) {
		g.prof = &replayProfile{cmds: g.commands()}
		stage = g.prof.tsOff(g.readLen) + 8*uint64(g.prof.queries())
	}
	if g.staging, err = be.pool.Get("readback", stage, gpu.UsageMapRead|gpu.UsageCopyDst); err != nil {
		panic(err)
	}
	if g.staging2, err = be.pool.Get("readback", stage, gpu.UsageMapRead|gpu.UsageCopyDst); err != nil {
		panic(err)
	}
	if err := g.buildJS(be); err != nil {
		panic(err)
	}
	return g, nil
}

// buildJS makes the graph's JS side once (see replay.js): the command list
// [pipeline, group, x, y, z, ...], the step data template and where each
// per-call value goes in it, and the completion callback.
func (g *graph) buildJS(be *Backend) error {
	if _, ok := replayFunc(); !ok {
		return nil
	}
	// The launches as three arrays of one element type each (pipelines,
	// bind groups, x/y/z counts in a Uint32Array): the encoding loop then
	// reads no mixed array.
	var pipes, groups []any
	var dims []byte
	for _, st := range g.steps {
		if st.X == 0 {
			continue
		}
		pipes = append(pipes, safejs.Unsafe(st.Pipeline.Value()))
		groups = append(groups, safejs.Unsafe(st.Group.Value()))
		dims = binary.LittleEndian.AppendUint32(dims, st.X)
		dims = binary.LittleEndian.AppendUint32(dims, st.Y)
		dims = binary.LittleEndian.AppendUint32(dims, st.Z)
	}
	lay := g.lay
	// The template: rows to read and positions relative to each
	// sequence's start; tokens, starts and slots come with each call.
	zeros := make([]int, lay.B)
	lay.fill(g.data, nil, zeros, zeros)
	var posIdx, posRel, posSeq, slotIdx, slotSeq, outIdx []any
	p := 0
	for r := 0; r < lay.R; r++ {
		t := lay.t(r)
		for b := 0; b < lay.B; b++ {
			for i := 0; i < t; i++ {
				posIdx = append(posIdx, lay.posOff(r)+b*t+i)
				posRel = append(posRel, p+i)
				posSeq = append(posSeq, b)
			}
			slotIdx = append(slotIdx, lay.slotOff(r)+b)
			slotSeq = append(slotSeq, b)
			if r == 0 && lay.picksRows(0) {
				outIdx = append(outIdx, lay.outOff(0)+b)
			}
		}
		p += t
	}
	data, err := jsTyped("Int32Array", i32Bytes(g.data))
	if err != nil {
		return err
	}
	if g.jsOut, err = jsTyped("Uint8Array", make([]byte, g.readLen)); err != nil {
		return err
	}
	dimArr, err := jsTyped("Uint32Array", dims)
	if err != nil {
		return err
	}
	// One callback per graph, made once: waiting for a replay then costs no
	// Go→JS call (a promise would need then() and two fresh callbacks), and
	// sampled tokens arrive as its arguments.
	g.doneCh = make(chan replayDone, 4)
	if g.jsDone, err = safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		d := replayDone{}
		if len(args) > 0 {
			d.seq, _ = args[0].Int()
		}
		if len(args) > 1 && args[1].Type() == safejs.TypeString {
			d.err, _ = args[1].String()
		}
		for _, a := range args[min(2, len(args)):] {
			v, _ := a.Int()
			d.ints = append(d.ints, int32(v))
		}
		g.doneCh <- d
		return nil
	}); err != nil {
		return err
	}
	g.jsGraph, err = jsObject(map[string]any{
		"device": safejs.Unsafe(be.dev.Value()), "pipes": pipes, "groups": groups, "dims": safejs.Unsafe(dimArr),
		"step": safejs.Unsafe(g.step.Value()),
		"data": safejs.Unsafe(data), "tokN": lay.rows(0), "B": lay.B,
		"posIdx": posIdx, "posRel": posRel, "posSeq": posSeq, "slotIdx": slotIdx, "slotSeq": slotSeq,
		"outIdx": outIdx, "src": safejs.Unsafe(g.readBuf.Value()), "off": float64(g.readOff), "len": float64(g.readLen),
		"staging": safejs.Unsafe(g.staging.Value()), "staging2": safejs.Unsafe(g.staging2.Value()),
		"ints": lay.Sample, "out": safejs.Unsafe(g.jsOut), "done": safejs.Unsafe(g.jsDone.Value()),
		"metaBase": lay.metaBase(), "feed": nil, "lastTok": float64(4 * lay.tokOff(lay.R)), "prof": nil,
		"split": lay.firstSubmit(),
	})
	if err != nil {
		return err
	}
	if g.feed != nil {
		if err := g.jsGraph.Set("feed", safejs.Unsafe(g.feed.Value())); err != nil {
			return err
		}
	}
	if g.prof != nil {
		return g.prof.build(be, g)
	}
	return nil
}

// wait blocks until replay seq completed and returns what it read back as
// int32 values (sampling graphs).
func (g *graph) wait(ctx context.Context, seq int) ([]int32, error) {
	for {
		select {
		case d := <-g.doneCh:
			g.seen = max(g.seen, d.seq)
			if d.seq != seq {
				continue // a replay whose wait was cancelled
			}
			if d.err != "" {
				return nil, errors.New(d.err)
			}
			return d.ints, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// run writes the step inputs (region 0's tokens, each sequence's start
// position and cache slot), replays the graph and returns the read-back
// bytes (sampled tokens or logits). With replay.js that is one Go→JS call
// for a sampling graph (tokens come back as the callback's arguments), two
// for a logits graph (plus copying the logits out).
func (g *graph) run(ctx context.Context, be *Backend, tokens []int32, starts, slots []int) ([]byte, error) {
	seq, out, err := g.start(ctx, be, tokens, starts, slots, false)
	if err != nil || out != nil {
		return out, err
	}
	return g.finish(ctx, be, seq)
}

// chainable reports whether a replay of g may start from the tokens the
// previous sampling replay left on the GPU (g.start with chain), so it can
// be submitted before that one is read back.
func (g *graph) chainable() bool {
	_, ok := replayFunc()
	return ok && g.ran && g.feed != nil
}

// start submits one replay and returns its sequence number for finish; when
// the graph is encoded from Go (its first run, or no replay.js) it runs to
// completion and returns the read-back bytes instead. chain takes region 0's
// tokens from the session's feed buffer (the previous sampling replay's last
// tokens) instead of tokens: see chainable. tokens may hold fewer rows per
// sequence than the graph's T (see stepLayout.fill): the rest are padding.
func (g *graph) start(ctx context.Context, be *Backend, tokens []int32, starts, slots []int, chain bool) (int, []byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	B, T := g.lay.B, g.lay.T
	used := T
	if !chain {
		if used = len(tokens) / B; used < 1 || used > T || len(tokens) != B*used {
			return 0, nil, fmt.Errorf("replaying %s: %d tokens for %d sequences", g.lay, len(tokens), B)
		}
	}
	if m := be.dev.Lost(); m != "" {
		return 0, nil, &lostError{reason: m}
	}
	if chain && !g.chainable() {
		return 0, nil, fmt.Errorf("replaying %s: cannot chain a graph that has not run through replay.js", g.lay)
	}
	fn, ok := replayFunc()
	if !g.ran || !ok {
		g.lay.fill(g.data, tokens, starts, slots)
		raw := i32Bytes(g.data)
		if !g.ran {
			// The first replay runs inside error scopes so a bad recording
			// shows up as an error, not as silent garbage.
			g.ran = true
			if err := be.dev.Scope(ctx, func() error { return g.submitGo(be, raw) }); err != nil {
				return 0, nil, be.checkLost(err)
			}
		} else {
			if err := g.submitGo(be, raw); err != nil {
				return 0, nil, be.checkLost(err)
			}
			be.jsCalls += 3*len(g.steps) + 8 // encoded from Go: setPipeline, setBindGroup, dispatch per step
		}
		out, err := be.dev.ReadBuffer(ctx, g.readBuf, g.readOff, g.readLen)
		return 0, out, be.checkLost(err)
	}
	// Each replay maps one of two staging buffers: the one this replay
	// uses must have been read back (a cancelled wait leaves it mapping).
	for g.seen < g.seq-1 {
		if _, err := g.wait(ctx, g.seen+1); err != nil {
			return 0, nil, be.checkLost(err)
		}
	}
	g.seq++
	args := make([]any, 0, 3+B*T+3*B)
	args = append(args, g.jsGraph, g.seq, chain)
	for b := 0; b < B; b++ {
		for i := 0; i < T; i++ {
			id := 0 // chained (from feed), or padding
			if !chain && i < used {
				id = int(tokens[b*used+i])
			}
			args = append(args, id)
		}
	}
	for _, s := range starts {
		args = append(args, s)
	}
	for _, s := range slots {
		args = append(args, s)
	}
	if g.lay.picksRows(0) {
		for b := 0; b < B; b++ {
			args = append(args, b*T+used-1)
		}
	}
	if _, err := fn.Invoke(args...); err != nil {
		return 0, nil, be.checkLost(fmt.Errorf("replaying %s: %w", g.lay, err))
	}
	be.jsCalls++
	return g.seq, nil, nil
}

// finish waits for replay seq (from start) and returns what it read back.
func (g *graph) finish(ctx context.Context, be *Backend, seq int) ([]byte, error) {
	ints, err := g.wait(ctx, seq)
	if err != nil {
		return nil, be.checkLost(fmt.Errorf("reading back %s: %w", g.lay, err))
	}
	if g.lay.Sample {
		return i32Bytes(ints), nil
	}
	out := make([]byte, g.readLen)
	if _, err := safejs.CopyBytesToGo(out, g.jsOut); err != nil {
		return nil, err
	}
	be.jsCalls++
	return out, nil
}

// submitGo encodes the graph from Go (first run and hosts without replay.js).
func (g *graph) submitGo(be *Backend, raw []byte) error {
	if err := be.dev.WriteBuffer(g.step, 0, raw); err != nil {
		return err
	}
	enc := be.dev.NewEncoder(g.lay.String())
	for _, it := range g.rec.items {
		it.d.Encode(enc)
	}
	if g.feed != nil {
		enc.CopyBuffer(g.step, uint64(4*g.lay.tokOff(g.lay.R)), g.feed, 0, uint64(4*g.lay.B))
	}
	return enc.Submit()
}

// tokens decodes sampled ids, step-major: R steps of B tokens.
func (g *graph) tokens(raw []byte) [][]int32 {
	out := make([][]int32, g.lay.R)
	for r := range out {
		out[r] = make([]int32, g.lay.B)
		for b := range out[r] {
			out[r][b] = int32(binary.LittleEndian.Uint32(raw[4*(r*g.lay.B+b):]))
		}
	}
	return out
}

// release gives the graph's buffers and dispatches back once the GPU is done.
func (g *graph) release(be *Backend) {
	if g.rec != nil {
		g.rec.release()
	}
	g.arena.release(be.pool)
	be.pool.Put(g.step)
	be.pool.Put(g.staging)
	be.pool.Put(g.staging2)
	if g.prof != nil {
		g.prof.release(be)
	}
	if g.doneCh != nil && g.seen == g.seq {
		// Every replay reported back; one whose wait was cancelled may
		// still call it, so that one keeps its callback.
		g.jsDone.Release()
	}
}
