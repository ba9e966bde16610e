package tokenizer

import "golang.org/x/text/unicode/norm"

// nfc applies Unicode NFC, as the HF normalizer of Qwen tokenizers does.
func nfc(s string) string {
	if norm.NFC.IsNormalString(s) {
		return s
	}
	return norm.NFC.String(s)
}
