package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func get(t *testing.T, url string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

func TestSampleServer(t *testing.T) {
	model := filepath.Join(t.TempDir(), "m.gguf")
	require.NoError(t, os.WriteFile(model, []byte("GGUF0123456789"), 0o644))
	srv, err := serve(sampleHandler(modelSource{Path: model}))
	require.NoError(t, err)
	defer srv.Close()
	assert.True(t, strings.HasPrefix(srv.URL, "http://127.0.0.1:"), srv.URL)

	resp, body := get(t, srv.URL+articlePath, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Content-Type"), "text/html")
	assert.Contains(t, body, "<article>", "a readable article for the popup's extraction")
	assert.GreaterOrEqual(t, strings.Count(body, "<p>"), 3)

	resp, body = get(t, srv.URL+"/models/m.gguf", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "GGUF0123456789", body)
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))

	// The store resumes downloads with Range requests.
	resp, body = get(t, srv.URL+"/models/m.gguf", map[string]string{"Range": "bytes=4-"})
	assert.Equal(t, http.StatusPartialContent, resp.StatusCode)
	assert.Equal(t, "0123456789", body)

	resp, _ = get(t, srv.URL+"/other", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestSampleServerWithoutLocalModel(t *testing.T) {
	srv, err := serve(sampleHandler(modelSource{URL: "https://example.com/m.gguf"}))
	require.NoError(t, err)
	defer srv.Close()
	resp, _ := get(t, srv.URL+"/models/m.gguf", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}
