package tasks

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/doppler-engine/doppler/engine/tokenizer"
)

// Turn is a chat turn as the extension sends it.
type Turn struct {
	Role    string `json:"role"` // "user" or "assistant"
	Content string `json:"content"`
}

// Input is the "input" of an extension task message
// ({type:"task", task, input, options}).
type Input struct {
	Text     string `json:"text"`               // page text or selection (summarize, rewrite); page text (chat)
	Title    string `json:"title,omitempty"`    // page title
	URL      string `json:"url,omitempty"`      // page address
	Language string `json:"language,omitempty"` // the page's language (BCP 47)
	// Chat only.
	Message string `json:"message,omitempty"`
	History []Turn `json:"history,omitempty"`
	UsePage bool   `json:"usePage,omitempty"` // "use this page as context"
}

// ChatOptions are the options of a chat message.
type ChatOptions struct {
	OutputLanguage string `json:"outputLanguage,omitempty"`
	MaxTokens      int    `json:"maxTokens,omitempty"`
}

// Output is what a task message's "done" reply carries besides stop.
type Output struct {
	Text         string `json:"text"`
	Stop         string `json:"stop"`
	PromptTokens int    `json:"prompt_tokens"`
	Chunks       int    `json:"chunks"`
	Note         string `json:"note,omitempty"`
	Dropped      int    `json:"dropped,omitempty"` // chat: oldest turns left out
}

// Run runs one extension task ("summarize", "rewrite" or "chat") with its
// JSON options, streaming through ev.
func (e *Engine) Run(ctx context.Context, task string, in Input, options json.RawMessage, ev Events) (*Output, error) {
	decode := func(v any) error {
		if len(options) == 0 || string(options) == "null" {
			return nil
		}
		if err := json.Unmarshal(options, v); err != nil {
			return fmt.Errorf("%s options: %w", task, err)
		}
		return nil
	}
	var res *Result
	dropped := 0
	switch task {
	case "summarize":
		var o SummarizeOptions
		if err := decode(&o); err != nil {
			return nil, err
		}
		r, err := e.Summarize(ctx, SummarizeRequest{Text: in.Text, Title: in.Title, InputLanguage: in.Language, Options: o}, ev)
		if err != nil {
			return nil, err
		}
		res = r
	case "rewrite":
		var o RewriteOptions
		if err := decode(&o); err != nil {
			return nil, err
		}
		r, err := e.Rewrite(ctx, RewriteRequest{Text: in.Text, InputLanguage: in.Language, Options: o}, ev)
		if err != nil {
			return nil, err
		}
		res = r
	case "chat":
		var o ChatOptions
		if err := decode(&o); err != nil {
			return nil, err
		}
		req := ChatRequest{Message: in.Message, Language: o.OutputLanguage, MaxTokens: o.MaxTokens}
		for _, t := range in.History {
			req.History = append(req.History, tokenizer.Message{Role: t.Role, Content: t.Content})
		}
		if in.UsePage {
			req.Page = &Page{Title: in.Title, URL: in.URL, Text: in.Text, Language: in.Language}
		}
		r, err := e.Chat(ctx, req, ev)
		if err != nil {
			return nil, err
		}
		res, dropped = r.Result, r.Dropped
	default:
		return nil, fmt.Errorf("unknown task %q (summarize, rewrite or chat)", task)
	}
	return &Output{Text: res.Text, Stop: res.Stop, PromptTokens: res.PromptTokens, Chunks: res.Chunks, Note: res.Note, Dropped: dropped}, nil
}
