//go:build js && wasm

package main

import (
	"context"
	"io"
	"net/http"
)

// cancelableTransport makes a response body end when its request's context
// does. Go's js/wasm fetch transport aborts the fetch only while it waits for
// the headers: a body read blocked on a stalled server ignores the context,
// so cancelling a download (or deleting its model) would hang until the
// server sent more. Closing the body cancels the ReadableStream, which ends
// the pending read.
type cancelableTransport struct {
	base http.RoundTripper
}

func (t cancelableTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	ctx := req.Context()
	body := &ctxBody{ReadCloser: resp.Body, ctx: ctx}
	body.stop = context.AfterFunc(ctx, func() { resp.Body.Close() })
	resp.Body = body
	return resp, nil
}

// ctxBody reports the context's error instead of the EOF or stream error a
// cancel causes.
type ctxBody struct {
	io.ReadCloser
	ctx  context.Context
	stop func() bool
}

func (b *ctxBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && b.ctx.Err() != nil {
		return n, b.ctx.Err()
	}
	return n, err
}

func (b *ctxBody) Close() error {
	b.stop()
	return b.ReadCloser.Close()
}
