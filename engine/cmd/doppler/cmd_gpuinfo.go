package main

import (
	"flag"
	"fmt"
	"io"
	"sort"

	"github.com/doppler-engine/doppler/engine/gpu"
)

// gpuinfo prints what WebGPU offers here: adapter info, enabled features and
// device limits. Natively it runs through the Node + Dawn host, so it also
// proves the --backend webgpu plumbing end to end.
func init() {
	register(&command{
		name:    "gpuinfo",
		summary: "show the WebGPU adapter, features and limits the engine gets",
		run:     runGPUInfo,
	})
}

func runGPUInfo(fs *flag.FlagSet, args []string, out *output) error {
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("gpuinfo takes no arguments")
	}
	if !webgpuInProcess {
		return runWebGPU("gpuinfo", args, out)
	}
	info, err := openGPUInfo()
	if err != nil {
		return err
	}
	return out.Emit(info, func(w io.Writer) { printGPUInfo(w, info) })
}

func printGPUInfo(w io.Writer, info *gpu.Info) {
	a := info.Adapter
	fmt.Fprintf(w, "adapter:      %s\n", a.Description)
	fmt.Fprintf(w, "vendor:       %s\n", a.Vendor)
	fmt.Fprintf(w, "architecture: %s\n", a.Architecture)
	fmt.Fprintf(w, "device:       %s\n", a.Device)
	fmt.Fprintf(w, "fallback:     %v\n", a.IsFallbackAdapter)
	fmt.Fprintf(w, "features:     %v\n", info.Features)
	names := make([]string, 0, len(info.Limits))
	for n := range info.Limits {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-42s %d\n", n, info.Limits[n])
	}
}
