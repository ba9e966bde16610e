// Package kernels holds the engine's WGSL compute shaders, one file per op
// family, embedded into the binary with go:embed. Some files are complete
// shaders; others are parts the runtime assembles (it prepends the uniform
// struct and element types generated from Go definitions).
//
// Conventions:
//   - every binding has an explicit bind group layout on the Go side (never
//     layout: 'auto');
//   - 1D work is linearized: a kernel computes its flat index from
//     global_invocation_id and num_workgroups so dispatches larger than
//     65535 workgroups split over y (see gpu.Grid);
//   - a file that says `enable f16;` itself carries the _f16 suffix, so it
//     is only compiled on devices that offer shader-f16.
package kernels

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

//go:embed *.wgsl
var files embed.FS

// Source returns the WGSL text of name (with or without the .wgsl suffix).
func Source(name string) (string, error) {
	if !strings.HasSuffix(name, ".wgsl") {
		name += ".wgsl"
	}
	b, err := files.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("kernels: no kernel %q", name)
	}
	return string(b), nil
}

// MustSource is Source for kernels known to exist; it panics otherwise.
func MustSource(name string) string {
	s, err := Source(name)
	if err != nil {
		panic(err)
	}
	return s
}

// Names lists the embedded kernel files (without .wgsl), sorted.
func Names() []string {
	entries, _ := fs.ReadDir(files, ".")
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".wgsl"))
	}
	sort.Strings(names)
	return names
}
