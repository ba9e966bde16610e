package main

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/doppler-engine/doppler/storage/store"
)

// Where the demo's model comes from, in this order: $DOPPLER_MODEL (a .gguf
// path or URL), the test model stories260K (DESIGN.md "Test data lookup"),
// the catalog's default download (what the popup's setup offers first).
const (
	fromEnv       = "$DOPPLER_MODEL"
	fromTestModel = "test model"
	fromCatalog   = "catalog default"
)

// modelSource is the model the demo installs into the extension's store:
// a local file (Path, served on 127.0.0.1 for the worker to download) or a
// URL the worker fetches itself (URL, or CatalogID for a catalog entry).
type modelSource struct {
	From      string // fromEnv, fromTestModel or fromCatalog
	Path      string
	URL       string
	CatalogID string
	Name      string // what the demo prints
}

// describe says where the model comes from, for the demo's output.
func (s modelSource) describe() string {
	switch {
	case s.Path != "":
		return fmt.Sprintf("%s (%s, %s)", s.Name, s.From, s.Path)
	default:
		return fmt.Sprintf("%s (%s, %s)", s.Name, s.From, s.URL)
	}
}

// hostPermissions are the origins the worker's fetch needs besides
// 127.0.0.1 (Hugging Face redirects its files to *.hf.co).
func (s modelSource) hostPermissions() []string {
	perms := []string{"http://127.0.0.1/*"}
	if s.URL == "" {
		return perms
	}
	u, err := url.Parse(s.URL)
	if err != nil || u.Hostname() == "127.0.0.1" {
		return perms
	}
	perms = append(perms, u.Scheme+"://"+u.Host+"/*")
	if host := u.Hostname(); host == "huggingface.co" || strings.HasSuffix(host, ".huggingface.co") {
		perms = append(perms, "https://*.hf.co/*", "https://*.huggingface.co/*")
	}
	return perms
}

// resolveModel picks the demo's model. env is $DOPPLER_MODEL; testModel
// finds the local test model (an error when there is none); catalog is the
// store's catalog, whose first entry is the default download.
func resolveModel(env string, testModel func() (string, error), catalog []store.CatalogEntry) (modelSource, error) {
	if env != "" {
		return fromSetting(env)
	}
	if p, err := testModel(); err == nil {
		return modelSource{From: fromTestModel, Path: p, Name: filepath.Base(p)}, nil
	}
	if len(catalog) == 0 {
		return modelSource{}, errors.New("no model: set DOPPLER_MODEL to a .gguf file or URL")
	}
	e := catalog[0]
	return modelSource{From: fromCatalog, URL: e.URL, CatalogID: e.ID, Name: e.Name}, nil
}

// fromSetting interprets $DOPPLER_MODEL: an http(s) URL, a file:// URL or
// a path. A path must be a readable GGUF file, checked here so a typo fails
// before Chromium starts.
func fromSetting(v string) (modelSource, error) {
	if u, err := url.Parse(v); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		name := filepath.Base(u.Path)
		if name == "." || name == "/" {
			name = v
		}
		return modelSource{From: fromEnv, URL: v, Name: name}, nil
	}
	p := strings.TrimPrefix(v, "file://")
	if err := checkGGUF(p); err != nil {
		return modelSource{}, fmt.Errorf("DOPPLER_MODEL=%s: %w", v, err)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return modelSource{}, err
	}
	return modelSource{From: fromEnv, Path: abs, Name: filepath.Base(abs)}, nil
}

// checkGGUF fails unless p is a regular file starting with the GGUF magic.
func checkGGUF(p string) error {
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return errors.New("no such file (give the path of a .gguf model file, or an http(s) URL of one)")
		}
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return errors.New("not a regular file (give the path of a .gguf model file)")
	}
	magic := make([]byte, 4)
	if _, err := io.ReadFull(f, magic); err != nil || string(magic) != "GGUF" {
		return errors.New("not a GGUF file (it does not start with the GGUF magic)")
	}
	return nil
}

// stories260KName is the test model the demo looks for.
const stories260KName = "stories260K.gguf"

// findTestModel looks for stories260K.gguf where the tests do:
// $DOPPLER_TEST_MODELS, then ../shared/models beside the repository, then
// the user cache where engine/internal/refdata downloads it.
func findTestModel(root string) (string, error) {
	var dirs []string
	if d := os.Getenv("DOPPLER_TEST_MODELS"); d != "" {
		dirs = append(dirs, d)
	}
	dirs = append(dirs, filepath.Join(root, "..", "shared", "models"))
	if c, err := os.UserCacheDir(); err == nil {
		dirs = append(dirs, filepath.Join(c, "doppler"))
	}
	for _, d := range dirs {
		p := filepath.Clean(filepath.Join(d, stories260KName))
		if checkGGUF(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in %s", stories260KName, strings.Join(dirs, ", "))
}
