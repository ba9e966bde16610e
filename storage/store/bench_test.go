//go:build !js

package store

import (
	"testing"
)

func BenchmarkImportMem(b *testing.B) {
	importBench(b, memFS(b))
}
