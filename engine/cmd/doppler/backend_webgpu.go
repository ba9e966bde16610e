//go:build !(js && wasm)

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
)

// The native CLI has no WebGPU: --backend webgpu re-runs the same command
// line in this CLI compiled to js/wasm, under the Node + Dawn host
// (build/wasm-exec), which gives it navigator.gpu and file access.
func init() {
	webgpuBackend = func(subcommand string, args []string, out *output) error {
		code := runUnderWebGPUHost(append([]string{subcommand}, args...), out.Stdout, out.Stderr)
		if code != 0 {
			return hostExitError{code}
		}
		return nil
	}
}

// webgpuInProcess reports whether this build talks to WebGPU itself (js/wasm).
const webgpuInProcess = false

// hostExitError is the exit status of the wasm run, whose own message is
// already on stderr.
type hostExitError struct{ code int }

func (e hostExitError) Error() string {
	return fmt.Sprintf("the WebGPU run failed (exit status %d, see the message above)", e.code)
}

// ExitCode is the status the wasm run ended with.
func (e hostExitError) ExitCode() int { return e.code }

// runUnderWebGPUHost builds (when stale) the CLI as js/wasm into
// .cache/doppler.wasm and runs it with args under build/wasm-exec, passing
// stdin, stdout, stderr and the exit code through. The working directory and
// environment stay the same, so relative paths in args work. $DOPPLER_WASM
// names a prebuilt wasm to run instead (machines without Go).
func runUnderWebGPUHost(args []string, stdout, stderr io.Writer) int {
	root, err := repoRoot()
	if err != nil {
		fmt.Fprintf(stderr, "doppler: --backend webgpu: %v\n", err)
		return 1
	}
	wasm := os.Getenv("DOPPLER_WASM")
	if wasm == "" {
		if wasm, err = buildSelfWasm(root, stderr); err != nil {
			fmt.Fprintf(stderr, "doppler: --backend webgpu: %v\n", err)
			return 1
		}
		defer os.Remove(wasm)
	}
	cmd := exec.Command(filepath.Join(root, "build", "wasm-exec"), append([]string{wasm}, args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	err = cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exitErr):
		if exitErr.ExitCode() < 0 { // killed by a signal
			fmt.Fprintf(stderr, "doppler: the WebGPU host ended: %v\n", err)
			return 1
		}
		return exitErr.ExitCode()
	default:
		fmt.Fprintf(stderr, "doppler: cannot start the WebGPU host (needs Node.js; run make setup): %v\n", err)
		return 1
	}
}

// buildSelfWasm runs `GOOS=js GOARCH=wasm go build ./engine/cmd/doppler`
// into .cache/doppler.wasm (Go skips the work when it is up to date) and
// returns a private copy, so concurrent runs never read a half-written file.
func buildSelfWasm(root string, stderr io.Writer) (string, error) {
	cache := filepath.Join(root, ".cache")
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(cache, "doppler.wasm.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)

	target := filepath.Join(cache, "doppler.wasm")
	build := exec.Command(goTool(), "build", "-o", target, "./engine/cmd/doppler")
	build.Dir = root
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	build.Stdout, build.Stderr = stderr, stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("building the CLI for js/wasm: %w", err)
	}
	data, err := os.ReadFile(target)
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp(cache, "doppler-run-*.wasm")
	if err != nil {
		return "", err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), f.Close()
}

// goTool is the go command: from PATH, else the toolchain that built us.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// repoRoot finds the repository (for build/wasm-exec and the sources):
// $DOPPLER_ROOT, else a parent of the working directory, else the
// directory this file was compiled from.
func repoRoot() (string, error) {
	if r := os.Getenv("DOPPLER_ROOT"); r != "" {
		return r, nil
	}
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		starts = append(starts, filepath.Dir(file))
	}
	for _, dir := range starts {
		for {
			data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
			if err == nil && strings.Contains(string(data), "module github.com/doppler-engine/doppler\n") {
				return dir, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", errors.New("cannot find the doppler repository (run inside it, or set DOPPLER_ROOT)")
}
