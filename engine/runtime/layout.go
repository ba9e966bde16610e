package runtime

import "fmt"

// DefaultStepsPerSubmit is the decode steps a submission records unless
// told otherwise (the extension's generator, the CLI's generate and
// bench): the host's per-submission work (writing the step's inputs,
// submitting, mapping the read-back) is paid once per this many tokens,
// and the tokens stream in groups this big.
const DefaultStepsPerSubmit = 4

// stepLayout places one graph's per-step int32 inputs in its step buffer,
// which the host writes once per submission:
//
//	tokens: region 0's B*T ids, then B ids for each later region and one
//	        more region's worth that the last step's sampler fills;
//	        sampling region r writes region r+1's ids;
//	meta:   per region, positions [rows], slots [B], wanted rows [B].
//
// Region 0 holds T rows per sequence (a prefill chunk or a decode step);
// regions 1..R-1 are decode steps of one row per sequence.
type stepLayout struct {
	B, T, R int
	All     bool // logits of every row (else the last row of each sequence)
	Sample  bool // tokens picked on the GPU and read back, no logits
	// Draw picks them with the session's GPU sampler (its sampling
	// parameters and per-slot histories) instead of argmax; with Sample.
	Draw bool
	// Span, when non-zero, is a bound on every row's position that the
	// graph is recorded for (Session.span): its decode attention splits
	// that many keys instead of the whole cache.
	Span int
}

// promptSubmit is how many launches a prompt chunk's first submission
// holds (replay.js: the next ones double). Small, so the GPU starts soon: a
// chunk's launch keeps the GPU busy ~10× longer than the host takes to
// encode it, so after the first piece the GPU does not wait on the host.
const promptSubmit = 8

// firstSubmit is replay.js's split: prompt chunks (several rows of one
// step) are submitted in pieces so their encoding overlaps the GPU's work;
// decode replays go whole (two are in flight, so the GPU already works
// while the next one is encoded).
func (l stepLayout) firstSubmit() int {
	if l.R == 1 && l.T > 1 {
		return promptSubmit
	}
	return 0
}

func (l stepLayout) String() string {
	mode := "last"
	if l.All {
		mode = "all"
	}
	if l.Sample {
		mode = "sample"
		if l.Draw {
			mode = "draw"
		}
	}
	if l.Span > 0 {
		return fmt.Sprintf("B=%d T=%d R=%d %s span=%d", l.B, l.T, l.R, mode, l.Span)
	}
	return fmt.Sprintf("B=%d T=%d R=%d %s", l.B, l.T, l.R, mode)
}

// t is the rows per sequence of region r.
func (l stepLayout) t(r int) int {
	if r == 0 {
		return l.T
	}
	return 1
}

func (l stepLayout) rows(r int) int { return l.B * l.t(r) }

// picksRows reports whether region r reads only the rows its step buffer
// names (the last of each sequence) past its blocks: several rows a
// sequence, not every row's logits.
func (l stepLayout) picksRows(r int) bool { return !l.All && l.t(r) > 1 }

// tokOff is the first token id of region r (r ≤ R).
func (l stepLayout) tokOff(r int) int {
	if r == 0 {
		return 0
	}
	return l.B*l.T + (r-1)*l.B
}

func (l stepLayout) metaBase() int { return l.tokOff(l.R + 1) }

func (l stepLayout) regionMeta(r int) int { return l.rows(r) + 2*l.B }

func (l stepLayout) posOff(r int) int {
	off := l.metaBase()
	for i := 0; i < r; i++ {
		off += l.regionMeta(i)
	}
	return off
}

func (l stepLayout) slotOff(r int) int { return l.posOff(r) + l.rows(r) }
func (l stepLayout) outOff(r int) int  { return l.slotOff(r) + l.B }

// size is the number of int32 values of the step buffer.
func (l stepLayout) size() int { return l.posOff(l.R) }

// fill writes the inputs of one submission: region 0's tokens
// (sequence-major), and for every region the positions starting at
// start[b] for sequence b, the slots and the last row of each sequence.
// tokens may hold fewer rows per sequence than T (a prompt chunk padded
// to a recorded shape, see promptRows): used = len(tokens)/B rows of each
// sequence count, the rest read token 0 at the positions after them, and
// the last row is the last used one. A nil tokens writes the template:
// every row used.
func (l stepLayout) fill(dst []int32, tokens []int32, start []int, slots []int) {
	clear(dst)
	used := l.T
	if tokens != nil {
		used = len(tokens) / l.B
		for b := 0; b < l.B; b++ {
			copy(dst[b*l.T:b*l.T+used], tokens[b*used:])
		}
	}
	p := 0
	for r := 0; r < l.R; r++ {
		t := l.t(r)
		pos, sl, out := l.posOff(r), l.slotOff(r), l.outOff(r)
		for b := 0; b < l.B; b++ {
			for i := 0; i < t; i++ {
				dst[pos+b*t+i] = int32(start[b] + p + i)
			}
			dst[sl+b] = int32(slots[b])
			last := t
			if r == 0 {
				last = used
			}
			dst[out+b] = int32(b*t + last - 1)
		}
		p += t
	}
}

// promptRows is the rows per sequence of the graph that prefills t rows
// of a prompt: the next power of two from 8 up, at most chunk, so prompts
// of most lengths share a few recorded graphs (on the H100 machine a
// prompt of a length not seen before waited 174–425 ms for its first token
// while its graph was recorded, against 7–55 ms). room is the fewest cache
// positions left after any sequence's start: padded rows write keys past
// the prompt, so they must fit the cache. No row reads those keys (later
// steps overwrite them first), and in a sliding-window layer's ring of
// Window + MaxChunk - 1 positions they overwrite none that a row still
// sees.
func promptRows(t, chunk, room int) int {
	if t < 2 {
		return t
	}
	p := 8
	for p < t {
		p *= 2
	}
	if p = min(p, chunk); p < t || p > room {
		return t
	}
	return p
}

// sessionLength is the positions of the session TaskGenerator makes for a
// generation of need positions, replacing one of have (0: none) of a model
// with a context of context (0: unknown). A power of two from 512 up, so
// longer prompts next time mostly reuse the session and the graphs it has
// recorded (a new session records its prompt and decode graphs again: a
// prompt graph's recording took 150-370 ms of host time on the H100
// machine, several times a 512-token prefill), at most twice the positions
// needed; never past the context, where the session's length is where a
// generation stops for room, as the CPU generator's cache is.
func sessionLength(need, have, context int) int {
	length := 512
	for length < max(need, have) {
		length *= 2
	}
	if context > 0 {
		length = max(min(length, context), need)
	}
	return length
}
