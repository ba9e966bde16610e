package main

import (
	"archive/zip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestZipDir(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	require.NoError(t, os.MkdirAll(filepath.Join(src, "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(src, "b.txt"), []byte("bee"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(src, "a.txt"), []byte("ay"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(src, "sub", "c.js"), []byte("sea"), 0o644))

	out1, out2 := filepath.Join(dir, "1.zip"), filepath.Join(dir, "2.zip")
	require.NoError(t, zipDir(out1, src, false))
	require.NoError(t, os.Chtimes(filepath.Join(src, "a.txt"), epoch.AddDate(30, 0, 0), epoch.AddDate(30, 0, 0)))
	require.NoError(t, zipDir(out2, src, false))
	b1, err := os.ReadFile(out1)
	require.NoError(t, err)
	b2, err := os.ReadFile(out2)
	require.NoError(t, err)
	assert.Equal(t, b1, b2, "same files, same archive")

	zr, err := zip.OpenReader(out1)
	require.NoError(t, err)
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	assert.Equal(t, []string{"a.txt", "b.txt", "sub/c.js"}, names)

	require.Error(t, zipDir(filepath.Join(dir, "x.zip"), filepath.Join(dir, "missing"), false))
	_, err = os.Stat(filepath.Join(dir, "x.zip.tmp"))
	assert.True(t, os.IsNotExist(err))
}

func TestZipDirStoreDropsKey(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	require.NoError(t, os.MkdirAll(src, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(src, "manifest.json"),
		[]byte(`{"manifest_version": 3, "key": "MIIB", "name": "x", "nested": {"key": "stays"}}`), 0o644))
	out := filepath.Join(dir, "store.zip")
	require.NoError(t, zipDir(out, src, true))
	zr, err := zip.OpenReader(out)
	require.NoError(t, err)
	defer zr.Close()
	require.Len(t, zr.File, 1)
	r, err := zr.File[0].Open()
	require.NoError(t, err)
	data, err := io.ReadAll(r)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m))
	assert.Equal(t, map[string]any{"manifest_version": 3.0, "name": "x", "nested": map[string]any{"key": "stays"}}, m)

	require.NoError(t, os.WriteFile(filepath.Join(src, "manifest.json"), []byte(`{broken`), 0o644))
	require.Error(t, zipDir(out, src, true))
}
