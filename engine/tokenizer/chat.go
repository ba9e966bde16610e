package tokenizer

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Message is one turn of a conversation. Role is "system", "user" or
// "assistant" ("tool" for ChatML templates).
type Message struct{ Role, Content string }

// Chat template families we render in Go (no Jinja engine in the product).
const (
	TemplateGemma  = "gemma"  // <start_of_turn>user … <end_of_turn>; system folded into the first user turn
	TemplateLlama3 = "llama3" // <|start_header_id|>role<|end_header_id|>\n\n … <|eot_id|>
	// TemplateLlama31 is Llama 3.1/3.2/3.3's: an always-present system block
	// with "Cutting Knowledge Date" and "Today Date" lines.
	TemplateLlama31 = "llama3.1"
	TemplateQwen3   = "qwen3"  // ChatML with Qwen3's <think> handling of assistant turns
	TemplateChatML  = "chatml" // plain <|im_start|>role\n … <|im_end|>
	// TemplateMistral is Mixtral-8x7B-Instruct-v0.1's (and Mistral 7B
	// Instruct v0.1's) current template: BOS, " [INST] user [/INST]",
	// " assistant</s>"; a system message prefixes the first user turn.
	TemplateMistral = "mistral"
	// TemplateMistralLegacy is the same models' first template: no spaces
	// before [INST] or the assistant's answer, no system message.
	TemplateMistralLegacy = "mistral-legacy"
)

// The [INST] layouts differ only in spaces; these fragments tell apart the
// two we render (Llama 2's, Mistral v3's and Tekken's are not among them).
const (
	mistralUserTurn       = `' [INST] ' + message['content'] + ' [/INST]'`
	mistralLegacyUserTurn = `'[INST] ' + message['content'] + ' [/INST]'`
)

// ErrNoTemplate means the model has no chat template we recognize.
var ErrNoTemplate = errors.New("the model has no chat template we can render")

// TemplateName returns the chat template family chosen for the model: from
// tokenizer.chat_template when present, else from the architecture and
// vocabulary.
func (t *Tokenizer) TemplateName() (string, error) {
	tpl := t.chatTemplate
	switch {
	case strings.Contains(tpl, "<start_of_turn>"):
		return TemplateGemma, nil
	case strings.Contains(tpl, "<|start_header_id|>") && strings.Contains(tpl, "Cutting Knowledge Date"):
		return TemplateLlama31, nil
	case strings.Contains(tpl, "<|start_header_id|>"):
		return TemplateLlama3, nil
	case strings.Contains(tpl, "<|im_start|>") && strings.Contains(tpl, "<think>"):
		return TemplateQwen3, nil
	case strings.Contains(tpl, "<|im_start|>"):
		return TemplateChatML, nil
	case strings.Contains(tpl, mistralUserTurn):
		return TemplateMistral, nil
	case strings.Contains(tpl, mistralLegacyUserTurn):
		return TemplateMistralLegacy, nil
	case tpl != "":
		return "", fmt.Errorf("%w: unrecognized tokenizer.chat_template", ErrNoTemplate)
	}
	_, turn := t.vocab["<start_of_turn>"]
	_, header := t.vocab["<|start_header_id|>"]
	_, im := t.vocab["<|im_start|>"]
	switch {
	case strings.HasPrefix(t.arch, "gemma") && turn:
		return TemplateGemma, nil
	case t.arch == "qwen3" || t.arch == "qwen3moe":
		if im {
			return TemplateQwen3, nil
		}
	case strings.HasPrefix(t.arch, "qwen") && im:
		return TemplateChatML, nil
	case header:
		return TemplateLlama3, nil
	case turn:
		return TemplateGemma, nil
	case im:
		return TemplateChatML, nil
	}
	return "", fmt.Errorf("%w (architecture %q)", ErrNoTemplate, t.arch)
}

// Chat renders a conversation with the model's chat template, as its Jinja
// template would for plain text messages. The result contains the special
// tokens (and BOS where the template writes it): tokenize it with
// EncodeSpecial(text, false), or use ChatTokens.
func (t *Tokenizer) Chat(msgs []Message, addGenerationPrompt bool) (string, error) {
	name, err := t.TemplateName()
	if err != nil {
		return "", err
	}
	if len(msgs) == 0 {
		return "", errors.New("chat: no messages")
	}
	switch name {
	case TemplateGemma:
		return t.chatGemma(msgs, addGenerationPrompt)
	case TemplateLlama3:
		return t.chatLlama3(msgs, addGenerationPrompt), nil
	case TemplateLlama31:
		return t.chatLlama31(msgs, addGenerationPrompt), nil
	case TemplateQwen3:
		return chatQwen3(msgs, addGenerationPrompt), nil
	case TemplateMistral:
		return t.chatMistral(msgs, " ")
	case TemplateMistralLegacy:
		return t.chatMistral(msgs, "")
	}
	return chatML(msgs, addGenerationPrompt), nil
}

// ChatTokens renders the conversation and tokenizes it.
func (t *Tokenizer) ChatTokens(msgs []Message, addGenerationPrompt bool) ([]int32, error) {
	s, err := t.Chat(msgs, addGenerationPrompt)
	if err != nil {
		return nil, err
	}
	return t.EncodeSpecial(s, false), nil
}

func (t *Tokenizer) bosText() string {
	if t.bos == null {
		return ""
	}
	return t.pieces[t.bos]
}

// jinjaTrim is Jinja's trim filter (Python str.strip()).
func jinjaTrim(s string) string { return strings.TrimSpace(s) }

// chatGemma follows Gemma 3's template: BOS, a system message becomes the
// prefix of the first user turn (followed by a blank line), roles must
// alternate user/assistant, "assistant" is called "model", contents are
// trimmed. (Gemma 2's template rejects a system message; we fold it the
// Gemma 3 way instead.)
func (t *Tokenizer) chatGemma(msgs []Message, gen bool) (string, error) {
	var b strings.Builder
	b.WriteString(t.bosText())
	prefix := ""
	if msgs[0].Role == "system" {
		prefix = msgs[0].Content + "\n\n"
		msgs = msgs[1:]
	}
	for i, m := range msgs {
		if (m.Role == "user") != (i%2 == 0) {
			return "", errors.New("chat: Gemma conversation roles must alternate user/assistant/user/assistant/...")
		}
		role := m.Role
		if role == "assistant" {
			role = "model"
		}
		b.WriteString("<start_of_turn>" + role + "\n")
		if i == 0 {
			b.WriteString(prefix)
		}
		b.WriteString(jinjaTrim(m.Content))
		b.WriteString("<end_of_turn>\n")
	}
	if gen {
		b.WriteString("<start_of_turn>model\n")
	}
	return b.String(), nil
}

// chatLlama3 follows Llama 3's template.
func (t *Tokenizer) chatLlama3(msgs []Message, gen bool) string {
	var b strings.Builder
	for i, m := range msgs {
		if i == 0 {
			b.WriteString(t.bosText())
		}
		b.WriteString("<|start_header_id|>" + m.Role + "<|end_header_id|>\n\n" + jinjaTrim(m.Content) + "<|eot_id|>")
	}
	if gen {
		b.WriteString("<|start_header_id|>assistant<|end_header_id|>\n\n")
	}
	return b.String()
}

// Now is the clock Llama 3.2's template reads ("Today Date"); tests fix it.
var Now = time.Now

// chatLlama31 follows Llama 3.1/3.2's template for messages without tools:
// BOS, a system block (knowledge cutoff, today's date, the trimmed system
// message), then the turns. Templates that call strftime_now (3.2+) date it
// today, as llama.cpp and transformers do; 3.1's uses its fixed date.
func (t *Tokenizer) chatLlama31(msgs []Message, gen bool) string {
	date := "26 Jul 2024"
	if strings.Contains(t.chatTemplate, "strftime_now") {
		date = Now().Format("02 Jan 2006")
	}
	system := ""
	if msgs[0].Role == "system" {
		system = jinjaTrim(msgs[0].Content)
		msgs = msgs[1:]
	}
	var b strings.Builder
	b.WriteString(t.bosText())
	b.WriteString("<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: " + date + "\n\n" + system + "<|eot_id|>")
	for _, m := range msgs {
		b.WriteString("<|start_header_id|>" + m.Role + "<|end_header_id|>\n\n" + jinjaTrim(m.Content) + "<|eot_id|>")
	}
	if gen {
		b.WriteString("<|start_header_id|>assistant<|end_header_id|>\n\n")
	}
	return b.String()
}

// chatML is the plain ChatML layout.
func chatML(msgs []Message, gen bool) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString("<|im_start|>" + m.Role + "\n" + m.Content + "<|im_end|>\n")
	}
	if gen {
		b.WriteString("<|im_start|>assistant\n")
	}
	return b.String()
}

// chatQwen3 follows Qwen3's template for messages without tools: assistant
// turns after the last user query carry their reasoning in <think> (an
// empty one for the final assistant turn), earlier ones drop it.
func chatQwen3(msgs []Message, gen bool) string {
	var b strings.Builder
	if msgs[0].Role == "system" {
		b.WriteString("<|im_start|>system\n" + msgs[0].Content + "<|im_end|>\n")
	}
	lastQuery := len(msgs) - 1
	for i := len(msgs) - 1; i >= 0; i-- {
		c := msgs[i].Content
		if msgs[i].Role == "user" && !(strings.HasPrefix(c, "<tool_response>") && strings.HasSuffix(c, "</tool_response>")) {
			lastQuery = i
			break
		}
	}
	for i, m := range msgs {
		switch {
		case m.Role == "user" || m.Role == "system" && i != 0:
			b.WriteString("<|im_start|>" + m.Role + "\n" + m.Content + "<|im_end|>\n")
		case m.Role == "assistant":
			content, reasoning := m.Content, ""
			if strings.Contains(m.Content, "</think>") {
				parts := strings.Split(m.Content, "</think>")
				content = strings.TrimLeft(parts[len(parts)-1], "\n")
				r := strings.Split(strings.TrimRight(parts[0], "\n"), "<think>")
				reasoning = strings.TrimLeft(r[len(r)-1], "\n")
			}
			if i > lastQuery && (i == len(msgs)-1 || reasoning != "") {
				b.WriteString("<|im_start|>assistant\n<think>\n" + strings.Trim(reasoning, "\n") + "\n</think>\n\n" + strings.TrimLeft(content, "\n"))
			} else {
				b.WriteString("<|im_start|>assistant\n" + content)
			}
			b.WriteString("<|im_end|>\n")
		case m.Role == "tool":
			if i == 0 || msgs[i-1].Role != "tool" {
				b.WriteString("<|im_start|>user")
			}
			b.WriteString("\n<tool_response>\n" + m.Content + "\n</tool_response>")
			if i == len(msgs)-1 || msgs[i+1].Role != "tool" {
				b.WriteString("<|im_end|>\n")
			}
		}
	}
	if gen {
		b.WriteString("<|im_start|>assistant\n")
	}
	return b.String()
}

// chatMistral follows Mixtral Instruct's [INST] template; space is " " for
// the current one and "" for the legacy one. Both write BOS, then user turns
// as space+"[INST] "+content+" [/INST]" and assistant turns as
// space+content+EOS, untrimmed, with roles alternating from the user; there
// is no generation prompt (the prompt ends with [/INST] either way). The
// current template writes a system message and a blank line before the first
// user message; the legacy one rejects system messages and we fold them in
// the same way.
func (t *Tokenizer) chatMistral(msgs []Message, space string) (string, error) {
	var b strings.Builder
	b.WriteString(t.bosText())
	prefix := ""
	if msgs[0].Role == "system" {
		prefix = msgs[0].Content + "\n\n"
		msgs = msgs[1:]
	}
	eos := ""
	if t.eos != null {
		eos = t.pieces[t.eos]
	}
	for i, m := range msgs {
		if (m.Role == "user") != (i%2 == 0) {
			return "", errors.New("chat: after the optional system message, Mistral conversation roles must alternate user/assistant/user/assistant/...")
		}
		switch m.Role {
		case "user":
			c := m.Content
			if i == 0 {
				c = prefix + c
			}
			b.WriteString(space + "[INST] " + c + " [/INST]")
		case "assistant":
			b.WriteString(space + m.Content + eos)
		default:
			return "", fmt.Errorf("chat: Mistral templates support user and assistant roles after an optional first system message, not %q", m.Role)
		}
	}
	return b.String(), nil
}
