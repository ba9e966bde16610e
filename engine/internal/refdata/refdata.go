// Package refdata finds the reference data tests need (DESIGN.md "Test data
// lookup"): an environment variable first, then ../shared beside the
// repository. Missing data fails the test: CI never skips silently.
package refdata

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// RepoRoot returns the repository root (the folder holding go.mod).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	// engine/internal/refdata/refdata.go → repo root is three levels up.
	dir := filepath.Dir(file)
	for i := 0; i < 6; i++ {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		dir = filepath.Dir(dir)
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; d != filepath.Dir(d); d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				return d
			}
		}
	}
	return "."
}

func lookup(env, sub string) (string, error) {
	if v := os.Getenv(env); v != "" {
		if _, err := os.Stat(v); err != nil {
			return "", fmt.Errorf("%s=%s: %w", env, v, err)
		}
		return v, nil
	}
	p := filepath.Join(RepoRoot(), "..", "shared", sub)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("reference data %s not found: set %s or put ../shared beside the repository (%w)", sub, env, err)
	}
	return filepath.Clean(p), nil
}

// ModelsDir returns the folder of test models ($DOPPLER_TEST_MODELS, ../shared/models).
func ModelsDir() (string, error) { return lookup("DOPPLER_TEST_MODELS", "models") }

// TokenizerTestsDir returns llama.cpp's tokenizer suite folder.
func TokenizerTestsDir() (string, error) {
	return lookup("DOPPLER_TOKENIZER_TESTS", "tokenizer-tests")
}

// HFFixturesDir returns the HF transformers fixtures folder.
func HFFixturesDir() (string, error) { return lookup("DOPPLER_HF_FIXTURES", "hf-fixtures") }

// Stories260K is the one real trained model we test against.
const (
	Stories260KName   = "stories260K.gguf"
	Stories260KSHA256 = "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d"
	Stories260KURL    = "https://huggingface.co/ggml-org/models/resolve/main/tinyllamas/stories260K.gguf"
)

// Stories260K returns the path of stories260K.gguf, downloading it into the
// user cache (and checking its SHA-256) when no local copy exists.
func Stories260K() (string, error) {
	if dir, err := ModelsDir(); err == nil {
		p := filepath.Join(dir, Stories260KName)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	p := filepath.Join(cache, "doppler", Stories260KName)
	if sum, err := fileSHA256(p); err == nil && sum == Stories260KSHA256 {
		return p, nil
	}
	if err := download(Stories260KURL, p, Stories260KSHA256); err != nil {
		return "", fmt.Errorf("stories260K.gguf: no local copy and download failed: %w", err)
	}
	return p, nil
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func download(url, dst, want string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp := dst + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(f, h), resp.Body); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		os.Remove(tmp)
		return fmt.Errorf("sha256 %s, want %s", got, want)
	}
	return os.Rename(tmp, dst)
}

// Must returns p or fails the test with err's message.
func Must(t testing.TB, p string, err error) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	return p
}
