package e2e

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// RepoRoot finds the repository root: $DOPPLER_ROOT, else the first parent of
// the working directory holding this module's go.mod.
func RepoRoot() (string, error) {
	if r := os.Getenv("DOPPLER_ROOT"); r != "" {
		return r, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(data), "module github.com/doppler-engine/doppler\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("e2e: not inside the doppler repository (set DOPPLER_ROOT)")
		}
		dir = parent
	}
}

// ExtensionID computes the ID Chrome gives an extension whose manifest has
// this "key" (base64 DER public key): the first 128 bits of its SHA-256,
// each hex digit written as a letter a-p.
func ExtensionID(key string) (string, error) {
	der, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		return "", fmt.Errorf("e2e: manifest key is not base64: %w", err)
	}
	sum := sha256.Sum256(der)
	id := make([]byte, 32)
	for i, b := range sum[:16] {
		id[2*i] = 'a' + b>>4
		id[2*i+1] = 'a' + b&0xf
	}
	return string(id), nil
}

// readManifest reads dir/manifest.json.
func readManifest(dir string) (map[string]any, error) {
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("e2e: %w (run make build first)", err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("e2e: %s/manifest.json: %w", dir, err)
	}
	return m, nil
}

// prepareExtension copies the built extension from src into dst and adds
// hostPermissions to the copy's manifest (the e2e-only overlay). It returns
// the extension ID derived from the manifest key.
func prepareExtension(src, dst string, hostPermissions []string) (string, error) {
	m, err := readManifest(src)
	if err != nil {
		return "", err
	}
	key, _ := m["key"].(string)
	if key == "" {
		return "", fmt.Errorf("e2e: %s/manifest.json has no key, so no fixed extension ID", src)
	}
	id, err := ExtensionID(key)
	if err != nil {
		return "", err
	}
	if err := copyDir(src, dst); err != nil {
		return "", err
	}
	if len(hostPermissions) > 0 {
		existing, _ := m["host_permissions"].([]any)
		for _, p := range hostPermissions {
			existing = append(existing, p)
		}
		m["host_permissions"] = existing
		data, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dst, "manifest.json"), data, 0o644); err != nil {
			return "", err
		}
	}
	return id, nil
}

func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}
