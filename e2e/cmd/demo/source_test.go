package main

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doppler-engine/doppler/storage/store"
)

// writeFile writes data to dir/name and returns its path.
func writeFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	return p
}

func TestResolveModel(t *testing.T) {
	dir := t.TempDir()
	gguf := writeFile(t, dir, "tiny.gguf", "GGUF\x03\x00\x00\x00")
	notGGUF := writeFile(t, dir, "text.gguf", "hello")
	short := writeFile(t, dir, "short.gguf", "GG")
	testModel := writeFile(t, dir, "stories260K.gguf", "GGUF")
	found := func() (string, error) { return testModel, nil }
	missing := func() (string, error) { return "", errors.New("none") }
	catalog := []store.CatalogEntry{
		{ID: "first", Name: "First", URL: "https://huggingface.co/a/b/resolve/main/first.gguf"},
		{ID: "second", Name: "Second", URL: "https://example.com/second.gguf"},
	}

	tests := []struct {
		name      string
		env       string
		testModel func() (string, error)
		catalog   []store.CatalogEntry
		want      modelSource
		wantErr   string
	}{
		{name: "env path wins over the test model", env: gguf, testModel: found, catalog: catalog,
			want: modelSource{From: fromEnv, Path: gguf, Name: "tiny.gguf"}},
		{name: "env file URL", env: "file://" + gguf, testModel: found,
			want: modelSource{From: fromEnv, Path: gguf, Name: "tiny.gguf"}},
		{name: "env https URL", env: "https://example.com/models/m.gguf?download=1", testModel: found,
			want: modelSource{From: fromEnv, URL: "https://example.com/models/m.gguf?download=1", Name: "m.gguf"}},
		{name: "env local http URL", env: "http://127.0.0.1:8080/x.gguf", testModel: missing,
			want: modelSource{From: fromEnv, URL: "http://127.0.0.1:8080/x.gguf", Name: "x.gguf"}},
		{name: "env missing file", env: "/nonexistent.gguf", testModel: found, wantErr: "DOPPLER_MODEL=/nonexistent.gguf: no such file"},
		{name: "env not a GGUF", env: notGGUF, testModel: found, wantErr: "not a GGUF file"},
		{name: "env too short for the magic", env: short, testModel: found, wantErr: "not a GGUF file"},
		{name: "env a folder", env: dir, testModel: found, wantErr: "not a regular file"},
		{name: "test model", testModel: found, catalog: catalog,
			want: modelSource{From: fromTestModel, Path: testModel, Name: "stories260K.gguf"}},
		{name: "catalog default is the first entry", testModel: missing, catalog: catalog,
			want: modelSource{From: fromCatalog, URL: catalog[0].URL, CatalogID: "first", Name: "First"}},
		{name: "nothing at all", testModel: missing, wantErr: "set DOPPLER_MODEL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := resolveModel(tc.env, tc.testModel, tc.catalog)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestResolveModelUsesTheStoreCatalog(t *testing.T) {
	require.NotEmpty(t, store.Catalog)
	got, err := resolveModel("", func() (string, error) { return "", errors.New("none") }, store.Catalog)
	require.NoError(t, err)
	assert.Equal(t, store.Catalog[0].ID, got.CatalogID)
	assert.Equal(t, store.Catalog[0].URL, got.URL)
}

func TestHostPermissions(t *testing.T) {
	tests := []struct {
		name string
		src  modelSource
		want []string
	}{
		{"local file", modelSource{Path: "/m.gguf"}, []string{"http://127.0.0.1/*"}},
		{"127.0.0.1 URL", modelSource{URL: "http://127.0.0.1:9/m.gguf"}, []string{"http://127.0.0.1/*"}},
		{"other origin", modelSource{URL: "https://example.com:8443/m.gguf"},
			[]string{"http://127.0.0.1/*", "https://example.com:8443/*"}},
		{"hugging face and its redirects", modelSource{URL: "https://huggingface.co/a/b/resolve/main/m.gguf"},
			[]string{"http://127.0.0.1/*", "https://huggingface.co/*", "https://*.hf.co/*", "https://*.huggingface.co/*"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.src.hostPermissions())
		})
	}
}

func TestFindTestModel(t *testing.T) {
	root := filepath.Join(t.TempDir(), "repo")
	require.NoError(t, os.MkdirAll(root, 0o755))
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())

	envDir := t.TempDir()
	t.Setenv("DOPPLER_TEST_MODELS", envDir)
	_, err := findTestModel(root)
	require.Error(t, err, "nothing anywhere")
	assert.Contains(t, err.Error(), envDir)

	shared := filepath.Join(root, "..", "shared", "models")
	require.NoError(t, os.MkdirAll(shared, 0o755))
	sharedModel := writeFile(t, shared, stories260KName, "GGUF")
	got, err := findTestModel(root)
	require.NoError(t, err)
	assert.Equal(t, filepath.Clean(sharedModel), got, "../shared/models beside the repository")

	envModel := writeFile(t, envDir, stories260KName, "GGUF")
	got, err = findTestModel(root)
	require.NoError(t, err)
	assert.Equal(t, envModel, got, "$DOPPLER_TEST_MODELS comes first")
}

func TestProgressText(t *testing.T) {
	assert.Equal(t, "1.5 MB", progressText(1_500_000, 0))
	assert.Equal(t, "0.3 / 1.2 MB (25%)", progressText(300_000, 1_200_000))
	assert.Equal(t, "1.2 / 1.2 MB (100%)", progressText(1_200_000, 1_200_000))
}
