package tasks

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func longText(paragraphs int) string {
	return randomText(rand.New(rand.NewPCG(7, 7)), paragraphs)
}

func TestSummarizeShortIsOneCall(t *testing.T) {
	tok := familyTok(t, "gemma3")
	g := &fakeGen{tok: tok, reply: func(string) string { return "  - One point.\n- Two points.\n\n" }}
	e, err := NewEngine(tok, g, 2048)
	require.NoError(t, err)
	var deltas []string
	notes := 0
	res, err := e.Summarize(context.Background(), SummarizeRequest{Text: sampleText, Options: SummarizeOptions{Type: TypeHeadline}},
		Events{Text: func(d string) { deltas = append(deltas, d) }, Note: func(string) { notes++ }})
	require.NoError(t, err)
	assert.Len(t, g.prompts, 1)
	assert.Equal(t, "- One point.\n- Two points.", res.Text, "surrounding whitespace trimmed")
	assert.Equal(t, res.Text, strings.Join(deltas, ""), "the stream is the text")
	assert.Equal(t, 1, res.Chunks)
	assert.Empty(t, res.Note)
	assert.Zero(t, notes)
	assert.Equal(t, StopEOS, res.Stop)
	assert.Equal(t, len(g.prompts[0]), res.PromptTokens)
	assert.Equal(t, res.Prompt.IDs, g.prompts[0])
	assert.Equal(t, 48, g.maxToks[0], "headline short budget")
}

func TestSummarizeMapReduce(t *testing.T) {
	tok := familyTok(t, "gemma3")
	text := longText(40)
	for _, batch := range []bool{true, false} {
		t.Run(fmt.Sprintf("batch=%v", batch), func(t *testing.T) {
			fg := &fakeGen{tok: tok, reply: partReply("- The final summary.")}
			var g Generator = fg
			if batch {
				g = fakeBatchGen{fg}
			}
			const ctxLen = 512
			e, err := NewEngine(tok, g, ctxLen)
			require.NoError(t, err)
			var notes []string
			var progress [][2]int
			res, err := e.Summarize(context.Background(), SummarizeRequest{Text: text, Title: "Long page"},
				Events{Note: func(n string) { notes = append(notes, n) }, Progress: func(d, n int) { progress = append(progress, [2]int{d, n}) }})
			require.NoError(t, err)
			n := res.Chunks
			require.Greater(t, n, 2, "the text needs several parts")
			assert.Len(t, fg.prompts, n+1, "one call per part and the final one")
			if batch {
				assert.Equal(t, []int{n}, fg.batches, "the parts run as one batch")
			}
			note := fmt.Sprintf("Summarized in %d parts because the page is longer than the model's context.", n)
			assert.Equal(t, note, res.Note)
			assert.Equal(t, []string{note}, notes)
			wantProgress := [][2]int{{0, n}, {n, n}}
			if !batch {
				wantProgress = [][2]int{{0, n}}
				for i := 1; i <= n; i++ {
					wantProgress = append(wantProgress, [2]int{i, n})
				}
			}
			assert.Equal(t, wantProgress, progress)
			assert.Equal(t, "- The final summary.", res.Text)
			final := tok.Decode(fg.prompts[n])
			for i := 1; i <= n; i++ {
				assert.Contains(t, final, fmt.Sprintf("Part %d: S%dof%d.", i, i, n))
			}
			assert.Contains(t, final, fmt.Sprintf("summaries of the %d consecutive parts", n))
			total := 0
			for i, p := range fg.prompts {
				total += len(p)
				assert.LessOrEqual(t, len(p)+fg.maxToks[i], ctxLen, "call %d fits the context", i)
			}
			assert.Equal(t, total, res.PromptTokens)
			// The parts cover the text in order: every sentence's words
			// appear in some part prompt.
			for _, para := range strings.Split(text, "\n\n") {
				found := false
				for _, p := range fg.prompts[:n] {
					if strings.Contains(tok.Decode(p), para[:min(len(para), 30)]) {
						found = true
					}
				}
				assert.True(t, found, "paragraph %q in a part", para[:min(len(para), 30)])
			}
		})
	}
}

// TestSummarizeRecursive: part summaries too long to fit together are
// summarized again, until the final prompt fits.
func TestSummarizeRecursive(t *testing.T) {
	tok := familyTok(t, "gemma3")
	text := longText(80)
	verbose := strings.Repeat("This part says many things about councils and lanes. ", 12)
	fg := &fakeGen{tok: tok, reply: func(p string) string {
		if partRe.MatchString(p) {
			return verbose
		}
		return "Done."
	}}
	e, err := NewEngine(tok, fakeBatchGen{fg}, 512)
	require.NoError(t, err)
	res, err := e.Summarize(context.Background(), SummarizeRequest{Text: text}, Events{})
	require.NoError(t, err)
	assert.Equal(t, "Done.", res.Text)
	require.Greater(t, len(fg.batches), 1, "more than one map round")
	assert.Less(t, fg.batches[1], fg.batches[0], "each round has fewer parts")
	assert.Equal(t, fg.batches[0], res.Chunks)
	assert.Len(t, fg.prompts, sum(fg.batches)+1)
	assert.Contains(t, res.Note, fmt.Sprintf("Summarized in %d parts", res.Chunks))
}

func sum(v []int) int {
	s := 0
	for _, x := range v {
		s += x
	}
	return s
}

func TestSummarizeOptionsRejected(t *testing.T) {
	tok := familyTok(t, "gemma3")
	e, err := NewEngine(tok, &fakeGen{tok: tok}, 1024)
	require.NoError(t, err)
	for _, o := range []SummarizeOptions{{Type: "bullets"}, {Length: "tiny"}, {Format: "html"}} {
		_, err := e.Summarize(context.Background(), SummarizeRequest{Text: "x", Options: o}, Events{})
		assert.Error(t, err, "%+v", o)
	}
	_, err = e.Summarize(context.Background(), SummarizeRequest{Text: " \n"}, Events{})
	assert.Error(t, err)
	_, err = NewEngine(tok, nil, 100)
	assert.Error(t, err, "context too small")
}

func TestSummarizeCancelled(t *testing.T) {
	tok := familyTok(t, "gemma3")
	e, err := NewEngine(tok, &fakeGen{tok: tok, reply: partReply("x")}, 512)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = e.Summarize(ctx, SummarizeRequest{Text: longText(30)}, Events{})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestRewriteLongInParts(t *testing.T) {
	tok := familyTok(t, "gemma3")
	text := longText(30)
	fg := &fakeGen{tok: tok, reply: func(p string) string {
		if m := partRe.FindStringSubmatch(p); m != nil {
			return "R" + m[1]
		}
		return "whole"
	}}
	const ctxLen = 512
	e, err := NewEngine(tok, fg, ctxLen)
	require.NoError(t, err)
	var streamed strings.Builder
	res, err := e.Rewrite(context.Background(), RewriteRequest{Text: text, Options: RewriteOptions{Tone: ToneMoreFormal, Length: LengthLonger}},
		Events{Text: func(d string) { streamed.WriteString(d) }})
	require.NoError(t, err)
	n := res.Chunks
	require.Greater(t, n, 1)
	var want []string
	for i := 1; i <= n; i++ {
		want = append(want, fmt.Sprintf("R%d", i))
	}
	assert.Equal(t, strings.Join(want, "\n\n"), res.Text)
	assert.Equal(t, res.Text, streamed.String())
	assert.Equal(t, fmt.Sprintf("Rewritten in %d parts because the text is longer than the model's context.", n), res.Note)
	for i, p := range fg.prompts {
		assert.LessOrEqual(t, len(p)+fg.maxToks[i], ctxLen)
		assert.GreaterOrEqual(t, fg.maxToks[i], 64, "room for a longer rewrite")
	}
}

func TestRewriteShort(t *testing.T) {
	tok := familyTok(t, "qwen3")
	fg := &fakeGen{tok: tok, reply: func(string) string { return "Ayer fui al mercado y compré manzanas." }}
	e, err := NewEngine(tok, fg, 1024)
	require.NoError(t, err)
	res, err := e.Rewrite(context.Background(), RewriteRequest{Text: "Ayer yo ha ido al mercado y compre manzanas.", InputLanguage: "es",
		Options: RewriteOptions{Mode: ModeFixGrammar}}, Events{})
	require.NoError(t, err)
	assert.Equal(t, "Ayer fui al mercado y compré manzanas.", res.Text)
	assert.Equal(t, 1, res.Chunks)
	assert.Contains(t, res.Prompt.Text, "Correct the spelling")
	assert.Contains(t, res.Prompt.Text, "Write in Spanish")
}

func TestSummarizeContextTooSmall(t *testing.T) {
	tok := familyTok(t, "gemma3")
	fg := &fakeGen{tok: tok, reply: partReply("x")}
	e, err := NewEngine(tok, fg, 256)
	require.NoError(t, err)
	_, err = e.Summarize(context.Background(), SummarizeRequest{Text: longText(5), Title: strings.Repeat("Very long title ", 20),
		Options: SummarizeOptions{SharedContext: strings.Repeat("Lots of background. ", 20)}}, Events{})
	assert.ErrorIs(t, err, ErrContext)
	assert.Empty(t, fg.prompts, "fails before generating anything")
}
