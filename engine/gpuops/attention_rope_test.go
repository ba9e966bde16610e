package gpuops

import (
	"reflect"
	"testing"

	"github.com/doppler-engine/doppler/kernels"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAttnRopeParams checks that the fused decode attention's params declare
// every member attention.wgsl and attention_qk_rope.wgsl read, and that
// withRope carries over every attnParams field.
func TestAttnRopeParams(t *testing.T) {
	decl, err := WGSLStruct("Params", attnRopeParams{})
	require.NoError(t, err)
	for _, name := range []string{"attention", "attention_qk_rope"} {
		for _, m := range paramRefs(kernels.MustSource(name)) {
			assert.Contains(t, decl, "    "+m+": ", "%s reads P.%s", name, m)
		}
	}
	// Every attnParams field set to a distinct value must reach the
	// fused struct's field of the same name.
	var p attnParams
	pv := reflect.ValueOf(&p).Elem()
	for i := 0; i < pv.NumField(); i++ {
		switch f := pv.Field(i); f.Kind() {
		case reflect.Uint32:
			f.SetUint(uint64(i + 1))
		case reflect.Float32:
			f.SetFloat(float64(i) + 0.5)
		}
	}
	r := reflect.ValueOf(p.withRope(3, true, true, 1e-6))
	for i := 0; i < pv.NumField(); i++ {
		name := pv.Type().Field(i).Name
		assert.Equal(t, pv.Field(i).Interface(), r.FieldByName(name).Interface(), name)
	}
	assert.Equal(t, attnRopeParams{Half: 3, Neox: 1, Norm: 1, Eps: 1e-6}, attnParams{}.withRope(3, true, true, 1e-6))
}
