//go:build !(js && wasm)

package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/doppler-engine/doppler/engine/gpu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These run the CLI compiled to js/wasm under Node + Dawn (build/wasm-exec):
// the path every --backend webgpu subcommand takes on a native build.

func TestGPUInfoThroughHost(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := runMain([]string{"gpuinfo", "--json"}, &stdout, &stderr)
	require.Equal(t, 0, code, "stderr: %s", stderr.String())
	var info gpu.Info
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &info), "stdout: %s", stdout.String())
	assert.NotEmpty(t, info.Adapter.Vendor+info.Adapter.Description)
	assert.Contains(t, info.Features, gpu.FeatureSubgroups)
	assert.Greater(t, info.Limits["maxBufferSize"], uint64(0))
	assert.Greater(t, info.Limits["maxComputeWorkgroupStorageSize"], uint64(0))
}

func TestHostPassesExitCodesThrough(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		icd      string
		wantCode int
		wantErr  string
	}{
		// Usage errors found inside the wasm keep their exit code 2.
		{"usage error in wasm", []string{"gpuinfo", "unexpected-arg"}, "", 2, "takes no arguments"},
		{"unknown command in wasm", []string{"no-such-command"}, "", 2, "unknown command"},
		// A Vulkan driver file that does not exist: no adapter, exit 1 with
		// a sentence a user can act on.
		{"no adapter", []string{"gpuinfo"}, "/nonexistent/icd.json", 1, "requestAdapter returned null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.icd != "" {
				t.Setenv("VK_ICD_FILENAMES", tt.icd)
				t.Setenv("VK_DRIVER_FILES", tt.icd)
			}
			var stdout, stderr bytes.Buffer
			code := runUnderWebGPUHost(tt.args, &stdout, &stderr)
			assert.Equal(t, tt.wantCode, code, "stderr: %s", stderr.String())
			assert.Contains(t, stderr.String(), tt.wantErr)
		})
	}
}

func TestHostExitErrorCarriesCode(t *testing.T) {
	err := error(hostExitError{3})
	var withCode interface{ ExitCode() int }
	require.ErrorAs(t, err, &withCode)
	assert.Equal(t, 3, withCode.ExitCode())
	assert.Contains(t, err.Error(), "exit status 3")
}

func TestRepoRoot(t *testing.T) {
	root, err := repoRoot()
	require.NoError(t, err)
	assert.FileExists(t, root+"/build/wasm-exec")
	t.Setenv("DOPPLER_ROOT", "/somewhere")
	root, err = repoRoot()
	require.NoError(t, err)
	assert.Equal(t, "/somewhere", root)
}
