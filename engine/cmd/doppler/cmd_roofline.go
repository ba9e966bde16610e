package main

import (
	"flag"
	"fmt"
	"io"
)

// roofline measures the GPU's memory read bandwidth through WebGPU: the
// ceiling decode speed is held against (decode reads every weight once per
// token). It fills a large buffer with a known pattern on the GPU, then times
// a kernel (kernels/roofline_read.wgsl) that reads all of it, and checks the
// kernel's checksum against the pattern's so no read went missing.
func init() {
	register(&command{
		name:    "roofline",
		summary: "measure the GPU's WebGPU read bandwidth (GB/s)",
		run:     runRoofline,
	})
}

// rooflineFlags are roofline's options.
type rooflineFlags struct {
	size        uint64 // bytes read per iteration (clipped to maxBufferSize)
	bindingSize uint64 // most bytes per binding; 0: maxStorageBufferBindingSize
	iters       int    // kernel passes over the buffer per timed submission
	reps        int    // timed submissions; the best counts
	workgroups  uint   // 0: chosen from the buffer size
}

func defineRooflineFlags(fs *flag.FlagSet, f *rooflineFlags) {
	fs.Uint64Var(&f.size, "size", 1<<30, "bytes to read per pass (clipped to the device's maxBufferSize)")
	fs.Uint64Var(&f.bindingSize, "binding-size", 0, "most bytes per storage binding (0: the device's maxStorageBufferBindingSize)")
	fs.IntVar(&f.iters, "iters", 20, "passes over the buffer per timed submission")
	fs.IntVar(&f.reps, "reps", 3, "timed submissions (the fastest counts)")
	fs.UintVar(&f.workgroups, "workgroups", 0, "workgroups of 256 per dispatch (0: a few sizes around a pick from the buffer size, the fastest counts)")
}

func checkRooflineFlags(f *rooflineFlags, pos []string) error {
	switch {
	case len(pos) > 0:
		return usagef("unexpected argument %q", pos[0])
	case f.size < 4096:
		return usagef("--size must be at least 4096 bytes")
	case f.bindingSize != 0 && f.bindingSize < 4096:
		return usagef("--binding-size must be 0 or at least 4096 bytes")
	case f.iters < 1 || f.reps < 1:
		return usagef("--iters and --reps must be at least 1")
	}
	return nil
}

// parseRooflineFlags parses roofline's arguments again where they run.
func parseRooflineFlags(args []string) (*rooflineFlags, error) {
	fs := flag.NewFlagSet("roofline", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Bool("json", false, "")
	var f rooflineFlags
	defineRooflineFlags(fs, &f)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return nil, err
	}
	return &f, checkRooflineFlags(&f, pos)
}

func runRoofline(fs *flag.FlagSet, args []string, out *output) error {
	var f rooflineFlags
	defineRooflineFlags(fs, &f)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := checkRooflineFlags(&f, pos); err != nil {
		return err
	}
	if !webgpuInProcess {
		return runWebGPU("roofline", args, out)
	}
	r, err := measureRoofline(&f)
	if err != nil {
		return err
	}
	if err := out.Emit(r, func(w io.Writer) { printRoofline(w, r) }); err != nil {
		return err
	}
	if !r.ChecksumOK {
		return fmt.Errorf("the read kernel's checksum %#08x differs from the pattern's %#08x: it did not read the whole buffer", r.Checksum, r.WantChecksum)
	}
	return nil
}

// rooflineReport is `doppler roofline --json`.
type rooflineReport struct {
	Device      string `json:"device"`
	BufferBytes uint64 `json:"buffer_bytes"`
	Bindings    int    `json:"bindings"`
	Workgroups  uint32 `json:"workgroups"`
	Iterations  int    `json:"iterations"`
	Reps        int    `json:"reps"`
	// Timing is "timestamp" (GPU timestamps around the compute pass) when
	// the device offers timestamp-query, else "wall".
	Timing       string  `json:"timing"`
	GBs          float64 `json:"gb_s"`
	TimestampGBs float64 `json:"timestamp_gb_s,omitempty"`
	// WallGBs counts submit-to-done wall time, overheads included.
	WallGBs float64 `json:"wall_gb_s"`
	// Sweep holds every dispatch size timed; Workgroups is the fastest.
	Sweep        []rooflinePoint `json:"sweep"`
	Checksum     uint32          `json:"checksum"`
	WantChecksum uint32          `json:"want_checksum"`
	ChecksumOK   bool            `json:"checksum_ok"`
}

// rooflinePoint is one dispatch size's best figures.
type rooflinePoint struct {
	Workgroups   uint32  `json:"workgroups"`
	TimestampGBs float64 `json:"timestamp_gb_s,omitempty"`
	WallGBs      float64 `json:"wall_gb_s"`
}

func printRoofline(w io.Writer, r *rooflineReport) {
	fmt.Fprintf(w, "device       %s\n", r.Device)
	fmt.Fprintf(w, "buffer       %d bytes in %d binding(s), %d workgroups of 256\n", r.BufferBytes, r.Bindings, r.Workgroups)
	fmt.Fprintf(w, "read         %.1f GB/s (%s; %d passes per submission, best of %d)\n", r.GBs, r.Timing, r.Iterations, r.Reps)
	fmt.Fprintf(w, "wall clock   %.1f GB/s\n", r.WallGBs)
	for _, pt := range r.Sweep {
		fmt.Fprintf(w, "  %6d workgroups: %.1f GB/s by timestamps, %.1f by wall clock\n", pt.Workgroups, pt.TimestampGBs, pt.WallGBs)
	}
	fmt.Fprintf(w, "checksum     %#08x (want %#08x)\n", r.Checksum, r.WantChecksum)
}

// rooflineWord is the u32 at word index i of the roofline buffer; it must
// match roofline_word in kernels/roofline_fill.wgsl.
func rooflineWord(i uint32) uint32 {
	x := i*0x9E3779B1 + 0x7F4A7C15
	x ^= x >> 15
	x *= 0x85EBCA77
	x ^= x >> 13
	return x
}

// rooflineChecksum is the sum (mod 2^32) of the first words words of the
// pattern: what one read pass must add up to.
func rooflineChecksum(words uint64) uint32 {
	var s uint32
	for i := uint64(0); i < words; i++ {
		s += rooflineWord(uint32(i))
	}
	return s
}

// rooflineLayout splits a buffer of size bytes into storage bindings of at
// most maxBinding bytes each, every one a multiple of align (the storage
// offset alignment, itself a multiple of 16 for vec4 reads). It returns the
// usable buffer size and the binding size; the last binding may be shorter.
func rooflineLayout(size, maxBinding, align uint64) (total, binding uint64) {
	binding = maxBinding / align * align
	total = size / 16 * 16
	if total <= binding {
		return total, total
	}
	return total, binding
}

// rooflineWorkgroups picks the dispatch size for a binding of vec4s: enough
// workgroups to keep every memory channel busy on a large GPU, each thread
// still looping over several reads, within the per-dimension limit.
func rooflineWorkgroups(vec4s uint64, maxPerDim uint32) uint32 {
	const threadsPerGroup, readsPerThread, most = 256, 16, 8192
	groups := (vec4s + threadsPerGroup*readsPerThread - 1) / (threadsPerGroup * readsPerThread)
	groups = max(1, min(groups, most, uint64(maxPerDim)))
	return uint32(groups)
}

// rooflineCandidates are the dispatch sizes timed when none is given: the
// pick, a quarter and four times it (within the limit), smallest first.
func rooflineCandidates(pick, maxPerDim uint32) []uint32 {
	var out []uint32
	for _, n := range []uint64{uint64(pick) / 4, uint64(pick), uint64(pick) * 4} {
		n = max(1, min(n, uint64(maxPerDim)))
		if len(out) == 0 || uint32(n) != out[len(out)-1] {
			out = append(out, uint32(n))
		}
	}
	return out
}
