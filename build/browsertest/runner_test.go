package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// build compiles the runner natively and the probe program for js/wasm.
func build(t *testing.T) (runner, wasm string) {
	t.Helper()
	if _, err := os.Stat(defaultChrome); err != nil {
		t.Skipf("no Chromium at %s (build/setup.sh installs it)", defaultChrome)
	}
	dir := t.TempDir()
	runner = filepath.Join(dir, "browsertest")
	wasm = filepath.Join(dir, "hello.wasm")
	out, err := exec.Command("go", "build", "-o", runner, ".").CombinedOutput()
	require.NoError(t, err, string(out))
	cmd := exec.Command("go", "build", "-o", wasm, "./testdata/hello")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err = cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	return runner, wasm
}

func TestRunnerPassesArgsOutputAndExitCode(t *testing.T) {
	runner, wasm := build(t)
	for _, tc := range []struct {
		mode string
		code int
	}{
		{"page", 0},
		{"worker", 7},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			arg := strconv.Itoa(tc.code)
			cmd := exec.Command(runner, "-mode", tc.mode, wasm, arg, "-test.v")
			cmd.Env = append(os.Environ(), "DOPPLER_BROWSERTEST_PROBE=probe-value", "UNLISTED_VAR=x")
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if tc.code == 0 {
				require.NoError(t, err, stderr.String())
			} else {
				var exit *exec.ExitError
				require.True(t, errors.As(err, &exit), "err %v", err)
				require.Equal(t, tc.code, exit.ExitCode())
			}
			require.Equal(t, "args=[\""+arg+"\" \"-test.v\"]\nenv=probe-value\n", stdout.String())
			require.Contains(t, stderr.String(), "to stderr\n")
		})
	}
}

func TestRunnerTimesOutAndStops(t *testing.T) {
	runner, wasm := build(t)
	var stderr bytes.Buffer
	cmd := exec.Command(runner, "-timeout", "2s", wasm, "hang")
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "err %v", err)
	require.Equal(t, exitTimeout, exit.ExitCode(), stderr.String())
	require.Contains(t, stderr.String(), "timed out")
}
