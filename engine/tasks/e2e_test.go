package tasks

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/engine/arch"
	"github.com/doppler-engine/doppler/engine/internal/refdata"
	"github.com/doppler-engine/doppler/engine/model"
	"github.com/doppler-engine/doppler/engine/ref"
	"github.com/doppler-engine/doppler/engine/sample"
	"github.com/doppler-engine/doppler/engine/synth"
	"github.com/doppler-engine/doppler/engine/tokenizer"
)

// cpuModel is a model on the CPU reference with its tokenizer.
type cpuModel struct {
	m   arch.Model
	be  *ref.Backend
	tok *tokenizer.Tokenizer
}

var (
	tinyOnce sync.Once
	tinyPath string
	tinyErr  error
)

func loadCPUModel(t *testing.T, path string) *cpuModel {
	t.Helper()
	src, err := model.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { src.Close() })
	be := ref.New()
	m, err := arch.Load(src, be)
	require.NoError(t, err)
	tok, err := tokenizer.FromMetadata(src.Metadata())
	require.NoError(t, err)
	return &cpuModel{m: m, be: be, tok: tok}
}

// tinyGemma3 is `doppler synth --shape tiny --arch gemma3`, written once.
func tinyGemma3(t *testing.T) *cpuModel {
	tinyOnce.Do(func() {
		dir, err := testTempDir()
		if err != nil {
			tinyErr = err
			return
		}
		tinyPath = filepath.Join(dir, "tiny-gemma3.gguf")
		_, tinyErr = synth.WriteFile(tinyPath, synth.Options{Arch: "gemma3", Shape: "tiny"})
	})
	require.NoError(t, tinyErr)
	return loadCPUModel(t, tinyPath)
}

func stories(t *testing.T) *cpuModel {
	p, err := refdata.Stories260K()
	return loadCPUModel(t, refdata.Must(t, p, err))
}

// greedy is an independent greedy loop over the runner: the reference the
// task layer's output must equal.
func greedy(t *testing.T, cm *cpuModel, prompt []int32, maxTokens int) []int32 {
	t.Helper()
	r := arch.NewRunner(cm.m, cm.be, 1, len(prompt)+maxTokens)
	logits, err := r.Feed([]int{0}, [][]int32{prompt}, false)
	require.NoError(t, err)
	var out []int32
	for len(out) < maxTokens {
		next := sample.Argmax(logits[0])
		if cm.tok.IsStop(next) {
			break
		}
		out = append(out, next)
		if len(out) == maxTokens {
			break
		}
		logits, err = r.Feed([]int{0}, [][]int32{{next}}, false)
		require.NoError(t, err)
	}
	return out
}

func streamDecode(tok *tokenizer.Tokenizer, ids []int32) string {
	d := tok.NewStreamDecoder()
	var b strings.Builder
	for _, id := range ids {
		b.WriteString(d.Push(id))
	}
	return strings.TrimSpace(b.String() + d.Flush())
}

// TestSummarizeCPUEqualsGreedy: through the CPU reference, a summary is
// exactly the greedy continuation of the prompt ids the task built; the
// prompt is the rendered text's tokens (plain for stories260K, the chat
// template for the tiny Gemma 3).
func TestSummarizeCPUEqualsGreedy(t *testing.T) {
	tests := []struct {
		name   string
		load   func(*testing.T) *cpuModel
		family string
	}{
		{"stories260K", stories, FamilyPlain},
		{"tiny gemma3", tinyGemma3, tokenizer.TemplateGemma},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cm := tt.load(t)
			e, err := NewEngine(cm.tok, &ArchGenerator{Model: cm.m, Backend: cm.be}, min(cm.m.Config().ContextLength, 2048))
			require.NoError(t, err)
			var streamed strings.Builder
			res, err := e.Summarize(context.Background(), SummarizeRequest{
				Text: "Lily found a red ball in the park. She played with it all day, then gave it to her friend Tom.", MaxTokens: 24,
			}, Events{Text: func(d string) { streamed.WriteString(d) }})
			require.NoError(t, err)
			assert.Equal(t, tt.family, res.Prompt.Family)
			if tt.family == FamilyPlain {
				assert.Equal(t, cm.tok.Encode(res.Prompt.Text, true), res.Prompt.IDs)
				assert.True(t, strings.HasSuffix(res.Prompt.Text, "\n\nSummary:"))
			} else {
				assert.Equal(t, cm.tok.EncodeSpecial(res.Prompt.Text, false), res.Prompt.IDs)
				assert.True(t, strings.HasSuffix(res.Prompt.Text, "<start_of_turn>model\n"))
			}
			want := greedy(t, cm, res.Prompt.IDs, 24)
			assert.Equal(t, want, res.Tokens)
			assert.Equal(t, streamDecode(cm.tok, want), res.Text)
			assert.Equal(t, res.Text, streamed.String())
			assert.Equal(t, len(res.Prompt.IDs), res.PromptTokens)
			if len(want) == 24 {
				assert.Equal(t, StopLength, res.Stop)
			} else {
				assert.Equal(t, StopEOS, res.Stop)
			}
		})
	}
}

// TestSummarizeCPULong: a text longer than a small context is summarized
// in parts on the tiny model, and the final answer is the greedy
// continuation of the final prompt.
func TestSummarizeCPULong(t *testing.T) {
	cm := tinyGemma3(t)
	gen := &ArchGenerator{Model: cm.m, Backend: cm.be}
	e, err := NewEngine(cm.tok, gen, 512)
	require.NoError(t, err)
	text := longText(8)
	require.Greater(t, len(cm.tok.Encode(text, false)), 512)
	res, err := e.Summarize(context.Background(), SummarizeRequest{Text: text, MaxTokens: 16}, Events{})
	require.NoError(t, err)
	assert.Greater(t, res.Chunks, 1)
	assert.Contains(t, res.Note, "because the page is longer than the model's context")
	assert.Contains(t, res.Prompt.Text, "Part 1: ")
	assert.LessOrEqual(t, len(res.Prompt.IDs)+16, 512)
	assert.Equal(t, greedy(t, cm, res.Prompt.IDs, 16), res.Tokens)
}

// TestArchGeneratorBatch: decoding sequences as one batch gives what each
// gives alone.
func TestArchGeneratorBatch(t *testing.T) {
	cm := tinyGemma3(t)
	gen := &ArchGenerator{Model: cm.m, Backend: cm.be}
	prompts := [][]int32{cm.tok.Encode("one two three", true), cm.tok.Encode("a", true), cm.tok.Encode("the park was green and wide", true)}
	opts := GenOptions{MaxTokens: 12, Stop: cm.tok.StopTokens()}
	var seen [3]int
	batch, err := gen.GenerateBatch(context.Background(), prompts, opts, func(i int, _ int32) bool { seen[i]++; return true })
	require.NoError(t, err)
	for i, p := range prompts {
		toks, stop, err := gen.Generate(context.Background(), p, opts, nil)
		require.NoError(t, err)
		assert.Equal(t, toks, batch[i].Tokens, "sequence %d", i)
		assert.Equal(t, stop, batch[i].Stop)
		assert.Equal(t, len(toks), seen[i])
		assert.Equal(t, greedy(t, cm, p, 12), toks)
	}
}

func TestArchGeneratorStopAndCancel(t *testing.T) {
	cm := stories(t)
	gen := &ArchGenerator{Model: cm.m, Backend: cm.be}
	prompt := cm.tok.Encode("Once upon a time", true)
	n := 0
	toks, stop, err := gen.Generate(context.Background(), prompt, GenOptions{MaxTokens: 20}, func(int32) bool { n++; return n < 3 })
	require.NoError(t, err)
	assert.Equal(t, StopStopped, stop)
	assert.Len(t, toks, 3)

	ctx, cancel := context.WithCancel(context.Background())
	_, _, err = gen.Generate(ctx, prompt, GenOptions{MaxTokens: 20}, func(int32) bool { cancel(); return true })
	assert.ErrorIs(t, err, context.Canceled)
}
