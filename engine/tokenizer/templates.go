package tokenizer

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// templateFiles are model families' published Jinja chat templates, byte for
// byte (origins and licenses in templates/README.md): the tests render them
// with a Jinja engine to check the Go renderers, and synthetic models ship
// them so that they behave like the real ones.
//
//go:embed templates/*.jinja
var templateFiles embed.FS

// ReferenceTemplate returns a published chat template by name: "llama3"
// (Llama 3 Instruct), "llama3.2" (Llama 3.2 Instruct), "mixtral"
// (Mixtral-8x7B-Instruct-v0.1 as published now) or "mixtral-legacy" (its
// first release, also Mistral-7B-Instruct-v0.1/v0.2's).
func ReferenceTemplate(name string) (string, error) {
	b, err := templateFiles.ReadFile("templates/" + name + ".jinja")
	if err != nil {
		return "", fmt.Errorf("no reference chat template %q (have %s)", name, strings.Join(ReferenceTemplates(), ", "))
	}
	return string(b), nil
}

// ReferenceTemplates lists the names ReferenceTemplate knows.
func ReferenceTemplates() []string {
	files, _ := fs.Glob(templateFiles, "templates/*.jinja")
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = strings.TrimSuffix(path.Base(f), ".jinja")
	}
	sort.Strings(names)
	return names
}
