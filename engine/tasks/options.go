package tasks

import (
	"fmt"
	"slices"
)

// Summary types, lengths and formats follow Chrome's Summarizer API.
const (
	TypeKeyPoints = "key-points"
	TypeTLDR      = "tldr"
	TypeTeaser    = "teaser"
	TypeHeadline  = "headline"

	LengthShort  = "short"
	LengthMedium = "medium"
	LengthLong   = "long"

	FormatMarkdown  = "markdown"
	FormatPlainText = "plain-text"
	FormatAsIs      = "as-is" // rewriter only: keep the input's format
)

// Rewriter tones and lengths follow Chrome's Rewriter API; ModeFixGrammar
// goes beyond it.
const (
	ToneMoreFormal = "more-formal"
	ToneAsIs       = "as-is"
	ToneMoreCasual = "more-casual"

	LengthShorter = "shorter"
	LengthAsIs    = "as-is"
	LengthLonger  = "longer"

	ModeRewrite    = "rewrite"
	ModeFixGrammar = "fix-grammar"
)

// SummarizeOptions are Chrome's Summarizer options. Zero values take
// Chrome's defaults (key-points, short, markdown).
type SummarizeOptions struct {
	Type          string `json:"type,omitempty"`
	Length        string `json:"length,omitempty"`
	Format        string `json:"format,omitempty"`
	SharedContext string `json:"sharedContext,omitempty"` // background for every request
	Context       string `json:"context,omitempty"`       // background for this request
	// OutputLanguage is a BCP 47 tag or a language name; empty means the
	// input's language.
	OutputLanguage string `json:"outputLanguage,omitempty"`
}

// RewriteOptions are Chrome's Rewriter options plus Mode. Zero values take
// the defaults (as-is tone, length and format; mode rewrite).
type RewriteOptions struct {
	Tone           string `json:"tone,omitempty"`
	Length         string `json:"length,omitempty"`
	Format         string `json:"format,omitempty"`
	Mode           string `json:"mode,omitempty"`
	SharedContext  string `json:"sharedContext,omitempty"`
	Context        string `json:"context,omitempty"`
	OutputLanguage string `json:"outputLanguage,omitempty"`
}

func pick(field, v, def string, allowed ...string) (string, error) {
	if v == "" {
		return def, nil
	}
	if !slices.Contains(allowed, v) {
		return "", fmt.Errorf("%s %q: want one of %v", field, v, allowed)
	}
	return v, nil
}

// normalize fills defaults and rejects unknown values.
func (o SummarizeOptions) normalize() (SummarizeOptions, error) {
	var err error
	if o.Type, err = pick("type", o.Type, TypeKeyPoints, TypeKeyPoints, TypeTLDR, TypeTeaser, TypeHeadline); err != nil {
		return o, err
	}
	if o.Length, err = pick("length", o.Length, LengthShort, LengthShort, LengthMedium, LengthLong); err != nil {
		return o, err
	}
	if o.Format, err = pick("format", o.Format, FormatMarkdown, FormatMarkdown, FormatPlainText); err != nil {
		return o, err
	}
	return o, nil
}

func (o RewriteOptions) normalize() (RewriteOptions, error) {
	var err error
	if o.Tone, err = pick("tone", o.Tone, ToneAsIs, ToneMoreFormal, ToneAsIs, ToneMoreCasual); err != nil {
		return o, err
	}
	if o.Length, err = pick("length", o.Length, LengthAsIs, LengthShorter, LengthAsIs, LengthLonger); err != nil {
		return o, err
	}
	if o.Format, err = pick("format", o.Format, FormatAsIs, FormatAsIs, FormatMarkdown, FormatPlainText); err != nil {
		return o, err
	}
	if o.Mode, err = pick("mode", o.Mode, ModeRewrite, ModeRewrite, ModeFixGrammar); err != nil {
		return o, err
	}
	return o, nil
}

// summaryTokens is the output budget for a summary: generous for the
// requested size so a model that follows the instruction is never cut.
func summaryTokens(o SummarizeOptions) int {
	size := map[string]int{LengthShort: 0, LengthMedium: 1, LengthLong: 2}[o.Length]
	switch o.Type {
	case TypeHeadline:
		return []int{48, 64, 80}[size]
	case TypeKeyPoints:
		return []int{192, 320, 448}[size]
	}
	return []int{96, 224, 352}[size] // tldr, teaser: 1, 3, 5 sentences
}

// ValidateSummarizeOptions fills Chrome's defaults into o and rejects
// values Chrome's Summarizer does not know.
func ValidateSummarizeOptions(o SummarizeOptions) (SummarizeOptions, error) { return o.normalize() }

// ValidateRewriteOptions fills the defaults into o and rejects unknown
// values.
func ValidateRewriteOptions(o RewriteOptions) (RewriteOptions, error) { return o.normalize() }
