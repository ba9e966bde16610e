//go:build js && wasm

package main

import (
	"encoding/json"
	"testing"

	"github.com/doppler-engine/doppler/engine/gpu"
	"github.com/doppler-engine/doppler/engine/webjs"
	"github.com/hack-pad/safejs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// callStatus calls dopplerEngine.status() the way background.js does.
func callStatus(t *testing.T, api safejs.Value) statusReply {
	t.Helper()
	p, err := api.Call("status")
	require.NoError(t, err)
	v, err := webjs.Await(p)
	require.NoError(t, err)
	data, err := webjs.ToJSON(v)
	require.NoError(t, err)
	var r statusReply
	require.NoError(t, json.Unmarshal(data, &r))
	return r
}

func TestStatusReportsWebGPU(t *testing.T) {
	api, err := newEngine().exports()
	require.NoError(t, err)
	r := callStatus(t, api)
	require.NotNil(t, r.WebGPU, "reason: %s", r.Reason)
	assert.Empty(t, r.Reason)
	assert.NotEmpty(t, r.WebGPU.Adapter.Description)
	assert.Contains(t, r.WebGPU.Features, gpu.FeatureSubgroups)
	assert.Greater(t, r.WebGPU.Limits["maxBufferSize"], uint64(0))
	assert.Equal(t, version, r.Version)
}

func TestStatusWithoutWebGPU(t *testing.T) {
	// Hide navigator.gpu: the reply must say why, with the no-webgpu code.
	nav, err := safejs.Global().Get("navigator")
	require.NoError(t, err)
	obj, err := safejs.Global().Get("Object")
	require.NoError(t, err)
	empty, err := obj.New()
	require.NoError(t, err)
	require.NoError(t, safejs.Global().Set("navigator", empty))
	defer func() { require.NoError(t, safejs.Global().Set("navigator", nav)) }()

	api, err := newEngine().exports()
	require.NoError(t, err)
	r := callStatus(t, api)
	assert.Nil(t, r.WebGPU)
	assert.Equal(t, "no-webgpu", r.Code)
	assert.Contains(t, r.Reason, "navigator.gpu is missing")
}
