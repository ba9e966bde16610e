package tasks

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// This file holds every word the model is told. Instructions follow the
// semantics of Chrome's Summarizer and Rewriter options.

const systemAssistant = "You are Doppler, an assistant built into the user's web browser. " +
	"Follow the instructions exactly and answer with the requested text only, with no preamble."

const systemChat = "You are Doppler, a helpful assistant built into the user's web browser. " +
	"Answer clearly and concisely."

// Cues end plain-text prompts (models without a chat template).
const (
	cueSummary   = "Summary:"
	cueRewrite   = "Rewritten text:"
	cueAssistant = "Assistant:"
)

// Notes shown to the user when an input did not fit the context.
func noteSummaryParts(n int) string {
	return fmt.Sprintf("Summarized in %d parts because the page is longer than the model's context.", n)
}

func noteRewriteParts(n int) string {
	return fmt.Sprintf("Rewritten in %d parts because the text is longer than the model's context.", n)
}

func noteChatDropped(n int) string {
	if n == 1 {
		return "The oldest message was left out to fit the model's context."
	}
	return fmt.Sprintf("The %d oldest messages were left out to fit the model's context.", n)
}

func notePageCut(percent int) string {
	if percent == 0 {
		return "The page does not fit in the model's context next to this conversation; the answer does not use it."
	}
	return fmt.Sprintf("Only the first %d%% of the page fits in the model's context; the answer uses that part.", percent)
}

func noteMessageCut(percent int) string {
	return fmt.Sprintf("Only the first %d%% of your message fits in the model's context.", percent)
}

// languageNames maps common BCP 47 primary tags to the English names
// models know best.
var languageNames = map[string]string{
	"ar": "Arabic", "bn": "Bengali", "cs": "Czech", "da": "Danish", "de": "German", "el": "Greek",
	"en": "English", "es": "Spanish", "fa": "Persian", "fi": "Finnish", "fr": "French", "he": "Hebrew",
	"hi": "Hindi", "hu": "Hungarian", "id": "Indonesian", "it": "Italian", "ja": "Japanese", "ko": "Korean",
	"nl": "Dutch", "no": "Norwegian", "nb": "Norwegian", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian",
	"ru": "Russian", "sv": "Swedish", "th": "Thai", "tr": "Turkish", "uk": "Ukrainian", "vi": "Vietnamese",
	"zh": "Chinese",
}

// LanguageName turns a BCP 47 tag ("pt-BR") into a language name
// ("Portuguese"); other strings are returned trimmed, as given.
func LanguageName(tag string) string {
	tag = strings.TrimSpace(tag)
	primary, _, _ := strings.Cut(strings.ReplaceAll(tag, "_", "-"), "-")
	if name, ok := languageNames[strings.ToLower(primary)]; ok {
		return name
	}
	return tag
}

// languageLine says which language to answer in: the requested one, else
// the input's (the page's lang attribute), else the text's own.
func languageLine(output, input string) string {
	switch {
	case strings.TrimSpace(output) != "":
		return "Write in " + LanguageName(output) + "."
	case strings.TrimSpace(input) != "":
		return "Write in " + LanguageName(input) + ", the language of the text."
	}
	return "Write in the same language as the text."
}

var (
	keyPointCount    = map[string]int{LengthShort: 3, LengthMedium: 5, LengthLong: 7}
	sentenceCount    = map[string]int{LengthShort: 1, LengthMedium: 3, LengthLong: 5}
	headlineWordCaps = map[string]int{LengthShort: 12, LengthMedium: 17, LengthLong: 22}
)

func sentences(n int) string {
	if n == 1 {
		return "one sentence"
	}
	return fmt.Sprintf("%d sentences", n)
}

// summaryInstruction is the task line for a summary of the given type.
func summaryInstruction(o SummarizeOptions) string {
	switch o.Type {
	case TypeTLDR:
		return fmt.Sprintf("Summarize the text below as a TL;DR in %s: a short, complete overview for a busy reader.",
			sentences(sentenceCount[o.Length]))
	case TypeTeaser:
		return fmt.Sprintf("Write a teaser for the text below in %s: an intriguing lead that makes the reader want to read the whole text, without giving away its conclusion.",
			sentences(sentenceCount[o.Length]))
	case TypeHeadline:
		return fmt.Sprintf("Write a headline for the text below: one line of at most %d words that captures its main point, with no quotation marks and no final period.",
			headlineWordCaps[o.Length])
	}
	n := keyPointCount[o.Length]
	return fmt.Sprintf("Summarize the text below as a list of its %d most important points, one short sentence each, most important first.", n)
}

// formatLine says how to format the answer.
func formatLine(format, typ string) string {
	switch {
	case typ == TypeHeadline:
		return "Write the headline as plain text, without any formatting."
	case format == FormatPlainText && typ == TypeKeyPoints:
		return "Use plain text without Markdown: put each point on its own line, starting with \"• \"."
	case format == FormatPlainText:
		return "Use plain text without Markdown."
	case typ == TypeKeyPoints:
		return "Format the list in Markdown: each point on its own line, starting with \"- \"."
	}
	return "You may use Markdown for emphasis, but no headings."
}

// maxTitleBytes caps a page title: titles are short, and a page's title
// must not crowd out its text.
const maxTitleBytes = 300

// clip shortens s to at most n bytes at a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.TrimSpace(s[:n]) + "…"
}

// contextLines are the optional background lines shared by the tasks.
func contextLines(title, shared, context string) []string {
	var out []string
	if t := clip(strings.TrimSpace(title), maxTitleBytes); t != "" {
		out = append(out, "Title: "+t)
	}
	if s := strings.TrimSpace(shared); s != "" {
		out = append(out, "Background: "+s)
	}
	if c := strings.TrimSpace(context); c != "" {
		out = append(out, "Context: "+c)
	}
	return out
}

// withText lays out a request: instructions, background, then the text in
// a fenced block so where the text starts and ends is unambiguous.
func withText(instructions []string, background []string, label, text string) string {
	var b strings.Builder
	b.WriteString(strings.Join(instructions, " "))
	if len(background) > 0 {
		b.WriteString("\n\n" + strings.Join(background, "\n"))
	}
	b.WriteString("\n\n" + label + ":\n\"\"\"\n" + strings.TrimSpace(text) + "\n\"\"\"")
	return b.String()
}

// summaryRequest is the user turn of a summary. parts > 0 means text is the
// joined summaries of that many consecutive parts (the reduce step).
func summaryRequest(o SummarizeOptions, title, inputLang, text string, parts int) string {
	var ins []string
	label := "Text"
	if parts > 0 {
		ins = append(ins, fmt.Sprintf("The text below is made of summaries of the %d consecutive parts of a longer text; treat them as one text.", parts))
		label = "Summaries of the parts"
	}
	ins = append(ins, summaryInstruction(o), formatLine(o.Format, o.Type), languageLine(o.OutputLanguage, inputLang))
	return withText(ins, contextLines(title, o.SharedContext, o.Context), label, text)
}

// partRequest is the map step of a long summary: one part of the text.
func partRequest(part, parts int, title, outputLang, inputLang, text string) string {
	ins := []string{
		fmt.Sprintf("The text below is part %d of %d of a longer text.", part, parts),
		"Summarize this part in a few sentences, keeping its key facts, names and numbers.",
		"Use plain text.",
		languageLine(outputLang, inputLang),
	}
	return withText(ins, contextLines(title, "", ""), "Part", text)
}

// joinParts joins the summaries of consecutive parts for the reduce step.
func joinParts(summaries []string) string {
	var b strings.Builder
	for i, s := range summaries {
		if i > 0 {
			b.WriteString("\n\n")
		}
		fmt.Fprintf(&b, "Part %d: %s", i+1, strings.TrimSpace(s))
	}
	return b.String()
}

// rewriteInstruction is the task line of a rewrite.
func rewriteInstruction(o RewriteOptions) []string {
	if o.Mode == ModeFixGrammar {
		return []string{
			"Correct the spelling, grammar and punctuation of the text below.",
			"Keep its meaning, tone, wording and formatting wherever they are already correct.",
		}
	}
	var ins []string
	switch o.Tone {
	case ToneMoreFormal:
		ins = append(ins, "Rewrite the text below in a more formal tone, suitable for professional writing.")
	case ToneMoreCasual:
		ins = append(ins, "Rewrite the text below in a more casual, conversational tone.")
	default:
		ins = append(ins, "Rewrite the text below so it reads more clearly, keeping its tone.")
	}
	switch o.Length {
	case LengthShorter:
		ins = append(ins, "Make it shorter, about half as long, keeping the essential points.")
	case LengthLonger:
		ins = append(ins, "Make it longer, about one and a half times as long, adding detail and explanation without inventing facts.")
	default:
		ins = append(ins, "Keep about the same length.")
	}
	ins = append(ins, "Keep its meaning.")
	return ins
}

func rewriteFormatLine(format string) string {
	switch format {
	case FormatMarkdown:
		return "Format the result in Markdown."
	case FormatPlainText:
		return "Use plain text without Markdown."
	}
	return "Keep the formatting of the original."
}

// rewriteRequest is the user turn of a rewrite. part/parts > 0 tell the
// model it sees one part of a longer selection.
func rewriteRequest(o RewriteOptions, inputLang, text string, part, parts int) string {
	ins := rewriteInstruction(o)
	if parts > 1 {
		ins = append([]string{fmt.Sprintf("The text below is part %d of %d of a longer text; handle only this part.", part, parts)}, ins...)
	}
	if o.Mode != ModeFixGrammar || o.Format != FormatAsIs {
		ins = append(ins, rewriteFormatLine(o.Format))
	}
	ins = append(ins, languageLine(o.OutputLanguage, inputLang), "Answer with the resulting text only.")
	return withText(ins, contextLines("", o.SharedContext, o.Context), "Text", text)
}

// chatSystem is the system turn of a chat, with the page when the user
// turned "use this page as context" on.
func chatSystem(page *Page, pageText, language string) string {
	s := systemChat
	if l := strings.TrimSpace(language); l != "" {
		s += " Answer in " + LanguageName(l) + "."
	}
	if page == nil {
		return s
	}
	s += " The user is reading the web page below; use it to answer when the question is about it."
	var bg []string
	if t := clip(strings.TrimSpace(page.Title), maxTitleBytes); t != "" {
		bg = append(bg, "Title: "+t)
	}
	if u := strings.TrimSpace(page.URL); u != "" {
		bg = append(bg, "URL: "+u)
	}
	if len(bg) > 0 {
		s += "\n\n" + strings.Join(bg, "\n")
	}
	return s + "\n\nPage text:\n\"\"\"\n" + strings.TrimSpace(pageText) + "\n\"\"\""
}
