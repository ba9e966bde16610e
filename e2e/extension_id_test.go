package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// DocumentedID is the extension ID that README.md names for the key in the
// top-level manifest.json.
const DocumentedID = "nmhelhmopheadcdbmkhjgofpoaojlcpd"

func TestExtensionIDOfManifestKey(t *testing.T) {
	root, err := RepoRoot()
	require.NoError(t, err)
	m, err := readManifest(root)
	require.NoError(t, err)
	id, err := ExtensionID(m["key"].(string))
	require.NoError(t, err)
	assert.Equal(t, DocumentedID, id)

	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	assert.Contains(t, string(readme), id, "README.md documents the extension ID")

	_, err = ExtensionID("not base64!")
	require.Error(t, err)
}

func TestManifestShape(t *testing.T) {
	root, err := RepoRoot()
	require.NoError(t, err)
	m, err := readManifest(root)
	require.NoError(t, err)
	assert.EqualValues(t, 3, m["manifest_version"])
	bg := m["background"].(map[string]any)
	assert.Equal(t, "background.js", bg["service_worker"])
	assert.NotContains(t, bg, "type", "a classic service worker (importScripts needs it)")
	csp := m["content_security_policy"].(map[string]any)
	assert.Equal(t, "script-src 'self' 'wasm-unsafe-eval'; object-src 'self'", csp["extension_pages"])
	assert.NotContains(t, m, "host_permissions", "host permissions are added only to the e2e copy")
	// Every file the manifest names is in extension/.
	named := []string{
		bg["service_worker"].(string),
		m["action"].(map[string]any)["default_popup"].(string),
		m["side_panel"].(map[string]any)["default_path"].(string),
		m["options_ui"].(map[string]any)["page"].(string),
	}
	for _, f := range named {
		assert.FileExists(t, filepath.Join(root, "extension", f))
	}
}

func TestPrepareExtensionOverlay(t *testing.T) {
	src := t.TempDir()
	manifest := map[string]any{"manifest_version": 3, "key": "AAAA", "host_permissions": []string{"https://example.com/*"}}
	data, err := json.Marshal(manifest)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(src, "manifest.json"), data, 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(src, "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(src, "sub", "x.js"), []byte("x"), 0o644))

	dst := filepath.Join(t.TempDir(), "ext")
	id, err := prepareExtension(src, dst, []string{"http://127.0.0.1/*"})
	require.NoError(t, err)
	assert.Len(t, id, 32)
	got, err := readManifest(dst)
	require.NoError(t, err)
	assert.Equal(t, []any{"https://example.com/*", "http://127.0.0.1/*"}, got["host_permissions"])
	assert.FileExists(t, filepath.Join(dst, "sub", "x.js"))
	// The source stays untouched.
	orig, err := readManifest(src)
	require.NoError(t, err)
	assert.Equal(t, []any{"https://example.com/*"}, orig["host_permissions"])
}
