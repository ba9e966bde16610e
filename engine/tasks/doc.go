// Package tasks turns the product's requests — summarize a page or a
// selection, rewrite a selection, chat with or without the page — into
// prompts for the loaded model, runs them through a Generator and streams
// the answer as text.
//
// All prompt wording lives in wording.go. Prompts are message lists rendered
// with the model's chat template (Gemma, Llama 3, Qwen3/ChatML; Qwen3 with
// thinking off) or, for models without one, a plain-text prompt. Token ids
// are built with tokenizer.EncodeSegments: the template's text is parsed for
// special tokens, page and user text never is, so a page quoting
// "<end_of_turn>" cannot end a turn.
//
// Inputs longer than the context are never cut silently: a summary is made
// map-reduce style over chunks (chunk summaries run as one batch where the
// Generator can decode several sequences at once), a rewrite goes part by
// part, and chat drops its oldest turns or shortens the page; each case
// returns a note for the user.
//
// Engine.Run takes the extension's task message ({task, input, options});
// Generator is the seam to the model: ArchGenerator runs an engine/arch
// model on any arch.Backend (the CPU reference in tests and the CLI), and
// the WebGPU runtime or the service worker plug in their own.
package tasks
