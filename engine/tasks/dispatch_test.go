package tasks

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	tok := familyTok(t, "gemma3")
	fg := &fakeGen{tok: tok, reply: func(string) string { return "Answer." }}
	e, err := NewEngine(tok, fg, 2048)
	require.NoError(t, err)
	page := Input{Text: sampleText, Title: "Bike lane", URL: "https://news.example/", Language: "en"}
	tests := []struct {
		task, options string
		in            Input
		wantInPrompt  []string
	}{
		{"summarize", `{"type":"headline","length":"medium"}`, page, []string{"at most 17 words", "Title: Bike lane", "Write in English"}},
		{"summarize", ``, page, []string{"3 most important points"}},
		{"rewrite", `{"tone":"more-casual","length":"shorter"}`, page, []string{"more casual", "shorter"}},
		{"rewrite", `{"mode":"fix-grammar"}`, page, []string{"Correct the spelling"}},
		{"chat", `{"outputLanguage":"de"}`, Input{Message: "Hi?", History: []Turn{{"user", "Q"}, {"assistant", "A"}}, UsePage: true, Text: sampleText, Title: "Bike lane"},
			[]string{"Answer in German", "Page text:", "model\nA\nuser\nHi?"}},
		{"chat", ``, Input{Message: "Hi?", Text: "not used"}, []string{"Hi?"}},
	}
	for _, tt := range tests {
		t.Run(tt.task+tt.options, func(t *testing.T) {
			out, err := e.Run(context.Background(), tt.task, tt.in, json.RawMessage(tt.options), Events{})
			require.NoError(t, err)
			assert.Equal(t, "Answer.", out.Text)
			assert.Equal(t, StopEOS, out.Stop)
			prompt := tok.Decode(fg.prompts[len(fg.prompts)-1])
			for _, w := range tt.wantInPrompt {
				assert.Contains(t, prompt, w)
			}
			if tt.task == "chat" && !tt.in.UsePage {
				assert.NotContains(t, prompt, "not used")
			}
		})
	}
	_, err = e.Run(context.Background(), "translate", page, nil, Events{})
	assert.Error(t, err)
	_, err = e.Run(context.Background(), "summarize", page, json.RawMessage(`{"type":"poem"}`), Events{})
	assert.Error(t, err)
}
