//go:build js && wasm

package runtime

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/gpu"
	"github.com/doppler-engine/doppler/engine/gpuops"
	"github.com/doppler-engine/doppler/engine/quant"
	"github.com/doppler-engine/doppler/engine/sample"
)

// maxGraphs is how many recorded step shapes a session keeps (a long
// generation records a decode graph per span, see span).
const maxGraphs = 12

// spanMin is the shortest span a decode graph is recorded for (a variable:
// tests lower it to cross spans with a small model).
var spanMin = 256

// span is the bound a decode graph whose rows reach position end-1 is
// recorded for: the smallest power of two from spanMin that exceeds it, 0
// (the whole cache) once that reaches the session's length. The decode
// attention sizes its splits for the keys its rows can see; for the whole
// cache, a short history in a long session (the extension's generator
// keeps its session at the longest prompt so far) runs mostly empty
// splits and combines them all: on an H200, gemma-3-270m's attention and
// combine at 600 keys took 22.8 µs a layer in a 4,096-position cache
// against 14.9 in a 641-position one.
func (s *Session) span(end int) int {
	p := spanMin
	for p < end {
		p *= 2
	}
	if p >= s.length {
		return 0
	}
	return p
}

// Session holds KV caches for a number of sequences (slots) and the graphs
// recorded for the step shapes it has run. It is not safe for concurrent
// use; a model may have several sessions, used one at a time.
type Session struct {
	m      *Model
	cache  *arch.Cache
	slots  int
	length int
	next   []int
	feed   *gpu.Buffer // the last sampled tokens, for chained replays (see graph.feed)
	// The GPU sampler of Draw graphs: its kernels, the parameters every
	// such graph reads (set per request) and per slot the history of the
	// sequence, a ring of length+1 tokens (gpuops.NewHistory): the whole
	// sequence, so RepeatLastN 0 (all of it) works as on the CPU.
	sampler   *gpuops.Sampler
	sampleCfg *gpuops.SampleConfig
	hist      *gpu.Buffer
	graphs    map[stepLayout]*graph
	order     []stepLayout
	// LastPlan is the plan of the most recently recorded step shape.
	LastPlan *Plan
	// DecodeDispatches is the GPU dispatches per decode step of the last
	// decode graph (0 before one ran).
	DecodeDispatches float64
}

// NewSession makes caches for slots sequences of up to length positions.
func (m *Model) NewSession(slots, length int) (*Session, error) {
	if slots < 1 || length < 1 {
		return nil, fmt.Errorf("a session needs at least one slot and one position (got %d, %d)", slots, length)
	}
	if c := m.Config.ContextLength; c > 0 && length > c {
		return nil, fmt.Errorf("a context of %d exceeds the model's %d: lower --context", length, c)
	}
	return &Session{m: m, cache: arch.NewCache(m.Backend, m.Config, slots, length), slots: slots, length: length,
		next: make([]int, slots), graphs: map[stepLayout]*graph{}}, nil
}

// Len is the number of tokens slot holds.
func (s *Session) Len(slot int) int { return s.next[slot] }

// Reset empties a slot.
func (s *Session) Reset(slot int) { s.next[slot] = 0 }

// Close frees the session's caches and graphs once the GPU is done with them.
func (s *Session) Close() {
	be := s.m.Backend
	for _, g := range s.graphs {
		g.release(be)
	}
	s.graphs, s.order = map[stepLayout]*graph{}, nil
	for _, l := range s.cache.Layers {
		be.releaseKV(l.(*kv))
	}
	be.pool.Put(s.feed)
	s.feed = nil
	if s.sampleCfg != nil {
		s.sampleCfg.Release()
		be.pool.Put(s.hist)
		s.sampler, s.sampleCfg, s.hist = nil, nil, nil
	}
}

// histWindow is the ring length of the sampling histories: a sequence's
// every token (a decode step at the last position appends one more).
func (s *Session) histWindow() int { return s.length + 1 }

// drawState returns the session's GPU sampler, its parameters and the
// history buffer, made on first use (panics on failure, as a recording
// does: capture recovers).
func (s *Session) drawState() (*gpuops.Sampler, *gpuops.SampleConfig, *gpu.Buffer) {
	if s.sampleCfg == nil {
		be := s.m.Backend
		smp, err := gpuops.NewSampler(be.ctx, be.ops)
		if err != nil {
			panic(err)
		}
		cfg, err := smp.NewConfig(s.m.Config.VocabSize, s.histWindow())
		if err != nil {
			panic(err)
		}
		hist, err := be.pool.Get("sample history", uint64(4*s.slots*(s.histWindow()+1)), gpu.UsageStorage|gpu.UsageCopyDst)
		if err != nil {
			cfg.Release()
			panic(err)
		}
		s.sampler, s.sampleCfg, s.hist = smp, cfg, hist
	}
	return s.sampler, s.sampleCfg, s.hist
}

// setSampling prepares the GPU sampler for a request with p.
func (s *Session) setSampling(p sample.Params) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("preparing GPU sampling: %v", r)
		}
	}()
	_, cfg, _ := s.drawState()
	return s.m.Backend.checkLost(cfg.SetParams(p))
}

// setHistory makes tokens the sampling history of slot (queued before the
// next submission).
func (s *Session) setHistory(slot int, tokens []int32) error {
	w := s.histWindow()
	h := gpuops.NewHistory(w, tokens)
	return s.m.Backend.checkLost(s.m.Backend.dev.WriteBuffer(s.hist, uint64(4*slot*(w+1)), i32Bytes(h)))
}

// feedBuffer is the session's feed buffer: room for one token per slot.
func (s *Session) feedBuffer() *gpu.Buffer {
	if s.feed == nil {
		var err error
		if s.feed, err = s.m.Backend.pool.Get("feed", uint64(4*s.slots), gpu.UsageStorage|gpu.UsageCopySrc|gpu.UsageCopyDst); err != nil {
			panic(err)
		}
	}
	return s.feed
}

// graph returns the recorded graph of lay, capturing it on first use.
func (s *Session) graph(lay stepLayout) (*graph, error) {
	if g, ok := s.graphs[lay]; ok {
		return g, nil
	}
	if len(s.order) >= maxGraphs {
		old := s.order[0]
		s.order = s.order[1:]
		s.graphs[old].release(s.m.Backend)
		delete(s.graphs, old)
	}
	g, err := s.capture(lay)
	if err != nil {
		return nil, s.m.Backend.checkLost(err)
	}
	s.graphs[lay] = g
	s.order = append(s.order, lay)
	s.LastPlan = g.rec.plan(lay)
	return g, nil
}

// Plan returns the plan of lay (recording it if needed).
func (s *Session) Plan(lay stepLayout) (*Plan, error) {
	g, err := s.graph(lay)
	if err != nil {
		return nil, err
	}
	return g.rec.plan(lay), nil
}

func (s *Session) checkSlot(slot int) error {
	if slot < 0 || slot >= s.slots {
		return fmt.Errorf("slot %d of a session with %d", slot, s.slots)
	}
	return nil
}

func (s *Session) checkTokens(ids []int32) error {
	vocab := s.m.Config.VocabSize
	for _, id := range ids {
		if id < 0 || int(id) >= vocab {
			return fmt.Errorf("token id %d is outside the vocabulary (0..%d)", id, vocab-1)
		}
	}
	return nil
}

// Logits feeds ids to slot (in chunks of at most MaxChunk rows) and returns
// the logits of every position (all) or of the last one.
func (s *Session) Logits(ctx context.Context, slot int, ids []int32, all bool) ([][]float32, error) {
	if err := s.checkSlot(slot); err != nil {
		return nil, err
	}
	if err := s.checkTokens(ids); err != nil {
		return nil, err
	}
	if n := s.next[slot] + len(ids); n > s.length {
		return nil, &ContextError{Tokens: n, Context: s.length}
	}
	chunk := s.m.Backend.opts.MaxChunk
	if all {
		// Every row's logits live in one buffer bound at once: keep a
		// chunk's logits within the device's largest binding.
		row := uint64(s.m.Config.VocabSize * s.m.Backend.prec.Bytes())
		chunk = max(1, min(chunk, int(s.m.Backend.ops.MaxBinding/row)))
	}
	var out [][]float32
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(len(ids), start+chunk)]
		last := start+chunk >= len(ids)
		lay := stepLayout{B: 1, T: len(part), R: 1, All: all}
		g, err := s.graph(lay)
		if err != nil {
			return nil, err
		}
		raw, err := g.run(ctx, s.m.Backend, part, []int{s.next[slot]}, []int{slot})
		if err != nil {
			return nil, err
		}
		s.next[slot] += len(part)
		if all || last {
			out = append(out, s.decodeLogits(raw)...)
		}
	}
	return out, nil
}

// decodeLogits splits read-back activations into rows of vocab floats.
func (s *Session) decodeLogits(raw []byte) [][]float32 {
	vocab := s.m.Config.VocabSize
	f16 := s.m.Backend.act == "f16"
	size := 4
	if f16 {
		size = 2
	}
	n := len(raw) / size
	flat := make([]float32, n)
	for i := range flat {
		if f16 {
			flat[i] = quant.F16ToF32(binary.LittleEndian.Uint16(raw[2*i:]))
		} else {
			flat[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	}
	var rows [][]float32
	for i := 0; i+vocab <= n; i += vocab {
		rows = append(rows, flat[i:i+vocab:i+vocab])
	}
	return rows
}

// GenOptions configure Generate.
type GenOptions struct {
	MaxTokens int
	// StepsPerSubmit decode steps are recorded and submitted together; the
	// GPU samples each step's token and feeds it to the next step, and the
	// tokens are read back once per submission.
	StepsPerSubmit int
	// Sampling picks the tokens, on the GPU, with engine/sample's algorithm
	// (so a seed gives what sample.Sampler gives on the CPU); the zero
	// value is greedy (argmax). Logits are never read back.
	Sampling sample.Params
	// Serial waits for each submission's tokens before submitting the next.
	// By default decoding keeps two submissions in flight: the next one
	// starts from the tokens the GPU sampled, and is dropped if the
	// sequences stopped (see Generate).
	Serial bool
	// IsStop ends a sequence at a token (not included in its result).
	IsStop func(int32) bool
	// OnToken streams each accepted token as soon as it is read back.
	OnToken func(seq int, tok int32)
	// Keep, when set, is asked after each accepted token (OnToken first):
	// false ends that sequence there, the token included, with Stop
	// "stopped"; the others go on.
	Keep func(seq int, tok int32) bool
}

// Result is one sequence's generation.
type Result struct {
	Tokens []int32
	Stop   string // "eos", "length" or "stopped" (Keep said so)
}

// Generate prefills each prompt into its own slot (0..len(prompts)-1), then
// decodes all of them together, one row per sequence per step, until each
// stops or has MaxTokens tokens. Each sequence gets the tokens it would get
// alone: rows never see each other's cache slots. A slot starts afresh (the
// prompt at position 0), whatever an earlier request left in it.
func (s *Session) Generate(ctx context.Context, prompts [][]int32, o GenOptions) ([]Result, error) {
	B := len(prompts)
	switch {
	case B == 0:
		return nil, fmt.Errorf("no prompts")
	case B > s.slots:
		return nil, fmt.Errorf("%d prompts for a session of %d slots", B, s.slots)
	case o.MaxTokens < 1:
		return nil, fmt.Errorf("max tokens must be at least 1")
	}
	if o.StepsPerSubmit < 1 {
		o.StepsPerSubmit = 1
	}
	res := make([]Result, B)
	done := make([]bool, B)
	cur := make([]int32, B)
	accept := func(b int, tok int32) {
		if done[b] {
			return
		}
		if o.IsStop != nil && o.IsStop(tok) {
			res[b].Stop, done[b] = "eos", true
			return
		}
		res[b].Tokens = append(res[b].Tokens, tok)
		if o.OnToken != nil {
			o.OnToken(b, tok)
		}
		if o.Keep != nil && !o.Keep(b, tok) {
			res[b].Stop, done[b] = "stopped", true
			return
		}
		if len(res[b].Tokens) >= o.MaxTokens {
			res[b].Stop, done[b] = "length", true
		}
	}
	for b, p := range prompts {
		res[b].Tokens = []int32{}
		if len(p) == 0 {
			return nil, fmt.Errorf("prompt %d is empty", b)
		}
		if len(p) > s.length {
			return nil, &ContextError{Tokens: len(p), Context: s.length}
		}
		if err := s.checkTokens(p); err != nil {
			return nil, err
		}
		s.Reset(b)
	}
	draw := !o.Sampling.Greedy()
	if draw {
		if err := s.setSampling(o.Sampling); err != nil {
			return nil, err
		}
	}
	// Prompts of one length are prefilled together, one step per chunk.
	byLen := map[int][]int{}
	var lens []int
	for b, p := range prompts {
		if byLen[len(p)] == nil {
			lens = append(lens, len(p))
		}
		byLen[len(p)] = append(byLen[len(p)], b)
	}
	for _, n := range lens {
		group := byLen[n]
		toks, err := s.prefill(ctx, group, prompts, draw)
		if err != nil {
			return nil, err
		}
		for i, b := range group {
			cur[b] = toks[i]
		}
	}
	for b := range cur {
		accept(b, cur[b])
	}
	if err := s.decode(ctx, B, cur, o, draw, accept, done, res); err != nil {
		return nil, err
	}
	return res, nil
}

// prefill feeds the prompts of slots (all of one length) together in
// chunks and returns the token that follows each, picked on the GPU: argmax,
// or (draw) by the session's sampler, whose histories of slots start as the
// prompts. Each chunk runs in a graph of promptRows rows, padded past the
// prompt, so prompts of most lengths reuse a few recorded graphs.
//
// Only the last chunk's token is used, so the chunks before it are submitted
// without waiting for their read-back: the host encodes a chunk while the GPU
// runs the one before (a graph keeps at most two replays in flight, see
// graph.start). Replays in flight are read back before the next chunk needs
// another graph (a graph's capture may release an older one) and before
// prefill returns.
func (s *Session) prefill(ctx context.Context, slots []int, prompts [][]int32, draw bool) ([]int32, error) {
	B, n := len(slots), len(prompts[slots[0]])
	// MaxChunk rows per step in all: a batch of prompts shares them (the
	// activations of a step grow with its rows).
	chunk := max(1, s.m.Backend.opts.MaxChunk/B)
	out := make([]int32, B)
	var flying *graph // the graph whose replays up to flySeq may be unread
	flySeq := 0
	land := func() error {
		g := flying
		flying = nil
		for g != nil && g.seen < flySeq {
			if _, err := g.finish(ctx, s.m.Backend, g.seen+1); err != nil {
				return err
			}
		}
		return nil
	}
	for start := 0; start < n; start += chunk {
		t := min(n, start+chunk) - start
		last := start+chunk >= n
		room := s.length
		for _, b := range slots {
			room = min(room, s.length-s.next[b])
		}
		lay := stepLayout{B: B, T: promptRows(t, chunk, room), R: 1, Sample: true, Draw: draw}
		if flying != nil && flying.lay != lay {
			if err := land(); err != nil {
				return nil, err
			}
		}
		g, err := s.graph(lay)
		if err != nil {
			return nil, err
		}
		ids := make([]int32, 0, B*t)
		begin := make([]int, B)
		for i, b := range slots {
			ids = append(ids, prompts[b][start:start+t]...)
			begin[i] = s.next[b]
		}
		if draw && last {
			// Every chunk's graph samples its last rows, but only the last
			// chunk's token counts: the histories are set right before it
			// (earlier chunks' draws appended to stale ones).
			for _, b := range slots {
				if err := s.setHistory(b, prompts[b]); err != nil {
					return nil, err
				}
			}
		}
		seq, raw, err := g.start(ctx, s.m.Backend, ids, begin, slots, false)
		if err != nil {
			return nil, err
		}
		for _, b := range slots {
			s.next[b] += t
		}
		if raw == nil && !last { // a replay in flight (a graph's first run completes in start)
			flying, flySeq = g, seq
		}
		if !last {
			continue
		}
		if err := land(); err != nil {
			return nil, err
		}
		if raw == nil {
			if raw, err = g.finish(ctx, s.m.Backend, seq); err != nil {
				return nil, err
			}
		}
		copy(out, g.tokens(raw)[0])
	}
	return out, nil
}

// seqSlots is the cache slots of B sequences generated together: 0..B-1.
func seqSlots(B int) []int {
	slots := make([]int, B)
	for b := range slots {
		slots[b] = b
	}
	return slots
}

// inFlight is a submitted decode replay not yet read back.
type inFlight struct {
	g   *graph
	seq int
	out []byte // read back already (a graph's first run is synchronous)
}

// decode decodes B sequences (slots 0..B-1), StepsPerSubmit steps per
// submission, picking tokens on the GPU (argmax, or the sampler with draw),
// from the tokens in cur. Unless
// o.Serial, it submits the next replay before reading back the current
// one, chained to start from the tokens the GPU sampled: the GPU never
// waits for a read-back or for Go. When the sequences stop, the replay
// still in flight is read back and dropped; its cache writes sit past
// every sequence's length, where the next prefill overwrites them.
func (s *Session) decode(ctx context.Context, B int, cur []int32, o GenOptions, draw bool, accept func(int, int32), done []bool, res []Result) error {
	be := s.m.Backend
	slots := seqSlots(B)
	var queue []inFlight
	// submit starts the next replay at s.next (chained to the previous one,
	// or from cur) and advances s.next; ok is false with no room left or
	// when a chained start is not possible yet.
	submit := func(chain bool) (ok bool, err error) {
		far := 0
		for b := range B {
			far = max(far, s.next[b])
		}
		room := s.length - far
		if room <= 0 {
			return false, nil
		}
		R := min(o.StepsPerSubmit, room)
		g, err := s.graph(stepLayout{B: B, T: 1, R: R, Sample: true, Draw: draw, Span: s.span(far + R)})
		if err != nil {
			return false, err
		}
		if chain && !g.chainable() {
			return false, nil
		}
		seq, out, err := g.start(ctx, be, cur, s.next[:B], slots, chain)
		if err != nil {
			return false, err
		}
		s.DecodeDispatches = float64(g.rec.dispatches()) / float64(R)
		for b := range B {
			s.next[b] += R
		}
		queue = append(queue, inFlight{g: g, seq: seq, out: out})
		return true, nil
	}
	active := func() bool {
		for b := range B {
			if !done[b] {
				return true
			}
		}
		return false
	}
	// drain reads back and drops what is still in flight, giving back its
	// positions.
	drain := func() error {
		for _, f := range queue {
			if f.out == nil {
				if _, err := f.g.finish(ctx, be, f.seq); err != nil {
					return err
				}
			}
			for b := range B {
				s.next[b] -= f.g.lay.R
			}
		}
		queue = nil
		return nil
	}
	for active() {
		if len(queue) == 0 {
			ok, err := submit(false)
			if err != nil {
				return err
			}
			if !ok {
				for b := range B {
					if !done[b] {
						res[b].Stop, done[b] = "length", true
					}
				}
				break
			}
		}
		if !o.Serial && len(queue) == 1 {
			if _, err := submit(true); err != nil {
				return err
			}
		}
		f := queue[0]
		queue = queue[1:]
		raw := f.out
		if raw == nil {
			var err error
			if raw, err = f.g.finish(ctx, be, f.seq); err != nil {
				return err
			}
		}
		toks := f.g.tokens(raw)
		for _, step := range toks {
			for b := range B {
				accept(b, step[b])
			}
		}
		cur = toks[len(toks)-1]
	}
	return drain()
}
