package kernels

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSource(t *testing.T) {
	for _, name := range []string{"add", "add.wgsl", "matmul_f32"} {
		src, err := Source(name)
		require.NoError(t, err, name)
		assert.Contains(t, src, "@compute")
	}
	_, err := Source("no_such_kernel")
	require.ErrorContains(t, err, `no kernel "no_such_kernel.wgsl"`)
}

func TestConventions(t *testing.T) {
	names := Names()
	require.NotEmpty(t, names)
	for _, name := range names {
		src := MustSource(name)
		// f16 kernels must be named so callers can skip them without shader-f16.
		usesF16 := strings.Contains(src, "enable f16;")
		assert.Equal(t, strings.HasSuffix(name, "_f16"), usesF16, "%s: _f16 suffix iff `enable f16;`", name)
	}
}
