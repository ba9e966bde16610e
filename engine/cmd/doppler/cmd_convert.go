package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/doppler-engine/doppler/engine/model"
)

func init() {
	register(&command{
		name:    "convert",
		summary: "convert a GGUF or HF model into a verified shard folder",
		run:     runConvert,
	})
}

func runConvert(fs *flag.FlagSet, args []string, out *output) error {
	dir := fs.String("o", "", "output shard folder, or a FILE.gguf to write one GGUF file (required)")
	dt := fs.String("dtype", "keep", "tensor type: keep|f32|f16|bf16|q8_0|q4_0|q4_k|q5_k|q6_k|q4_k_m")
	shardSize := fs.Int64("shard-size", 64<<20, "target shard size in bytes")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want exactly one MODEL (a .gguf file, an HF folder or a shard folder)")
	}
	if *dir == "" {
		return usagef("-o DIR is required")
	}
	if *shardSize <= 0 {
		return usagef("--shard-size must be positive")
	}
	if err := checkDType(*dt); err != nil {
		return err
	}
	src, err := model.Open(pos[0])
	if err != nil {
		return err
	}
	defer src.Close()
	if strings.HasSuffix(strings.ToLower(*dir), ".gguf") {
		return convertToGGUF(src, *dir, *dt, out)
	}
	fsys, rel, err := model.NativeFS(*dir)
	if err != nil {
		return err
	}
	res, err := model.Convert(src, fsys, rel, model.ConvertOptions{DType: *dt, ShardSize: *shardSize})
	if err != nil {
		return fmt.Errorf("convert %s: %w", pos[0], err)
	}
	manifest := filepath.Join(*dir, "manifest.json")
	return out.Emit(map[string]any{"shards": res.Shards, "bytes": res.Bytes, "manifest": manifest}, func(w io.Writer) {
		fmt.Fprintf(w, "wrote %d shard(s), %d bytes: %s\n", res.Shards, res.Bytes, manifest)
	})
}

// convertToGGUF writes the model as one GGUF file (llama.cpp reads it), via
// a temporary file renamed into place. Its JSON: {"path","bytes","tensors"}.
func convertToGGUF(src model.Source, path, dt string, out *output) error {
	src, err := model.WithDType(src, dt)
	if err != nil {
		return err
	}
	tmp := path + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	n, err := model.WriteGGUF(src, bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return out.Emit(map[string]any{"path": path, "bytes": n, "tensors": len(src.Tensors())}, func(w io.Writer) {
		fmt.Fprintf(w, "wrote %s: %d bytes, %d tensors\n", path, n, len(src.Tensors()))
	})
}
