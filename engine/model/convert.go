package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"sort"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/gguf"
	"github.com/doppler-engine/doppler/engine/shards"
	"github.com/hack-pad/hackpadfs"
)

// ConvertOptions control Convert.
type ConvertOptions struct {
	// DType is "keep" (or "") to copy tensors as stored, or a target that
	// quant.ChooseType understands (f32 f16 bf16 q8_0 q4_0 q4_k q5_k q6_k q4_k_m).
	DType string
	// ShardSize is the target shard size in bytes (0 = shards.DefaultShardSize).
	ShardSize int64
}

// ConvertResult summarizes a written shard folder.
type ConvertResult struct {
	Shards   int    `json:"shards"`
	Bytes    int64  `json:"bytes"`
	Manifest string `json:"manifest"`
}

// Convert writes src as a shard folder at dir in fsys, one tensor at a
// time (never the whole model in memory), the manifest last.
func Convert(src Source, fsys hackpadfs.FS, dir string, o ConvertOptions) (*ConvertResult, error) {
	cfg := src.Config()
	if len(src.Tensors()) == 0 {
		return nil, fmt.Errorf("the model has no tensors (vocab-only file?): nothing to convert")
	}
	if ps := Validate(cfg, src.Tensors()); len(ps) > 0 {
		return nil, &InvalidError{Source: "convert input", Problems: ps}
	}
	src, err := WithDType(src, o.DType)
	if err != nil {
		return nil, err
	}
	w, err := shards.NewWriter(fsys, dir, o.ShardSize)
	if err != nil {
		return nil, err
	}
	for _, t := range src.Tensors() {
		data, err := src.ReadTensor(t.Name)
		if err != nil {
			w.Abort()
			return nil, err
		}
		if err := w.AddTensor(t.Name, t.Shape, t.DType.String(), int64(len(data)), func(dst io.Writer) error {
			_, err := dst.Write(data)
			return err
		}); err != nil {
			w.Abort()
			return nil, err
		}
	}
	md := src.Metadata()
	metaBytes, err := metadataGGUF(md)
	if err != nil {
		w.Abort()
		return nil, err
	}
	metaRef, err := w.AddFile(shards.MetadataName, metaBytes)
	if err != nil {
		return nil, err
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	m, err := w.Finish(shards.Manifest{
		Architecture: cfg.Architecture,
		Config:       cfgJSON,
		Tokenizer:    TokenizerSummary(md),
		Metadata:     metaRef,
	})
	if err != nil {
		return nil, err
	}
	return &ConvertResult{Shards: len(m.Shards), Bytes: w.Bytes(), Manifest: path.Join(dir, shards.ManifestName)}, nil
}

// Requantize returns data (tensor t's bytes) in dtype target.
func Requantize(t TensorInfo, data []byte, target dtype.DType) ([]byte, error) {
	if target == t.DType {
		return data, nil
	}
	f, err := toFloat32(t.DType, data, int(t.Elements()))
	if err != nil {
		return nil, fmt.Errorf("tensor %s: %w", t.Name, err)
	}
	out, err := fromFloat32(target, f)
	if err != nil {
		return nil, fmt.Errorf("tensor %s to %s: %w", t.Name, target, err)
	}
	return out, nil
}

// metadataGGUF stores metadata as a tensor-less GGUF, keys sorted so the
// bytes are deterministic. Keys that describe the file itself are dropped.
func metadataGGUF(md map[string]any) ([]byte, error) {
	keys := make([]string, 0, len(md))
	for k := range md {
		if k == gguf.AlignmentKey || k == "general.file_type" || k == "general.quantization_version" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	w := gguf.NewWriter()
	for _, k := range keys {
		w.Set(k, md[k])
	}
	if err := w.Err(); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	return buf.Bytes(), nil
}

// TokenizerSummary summarizes tokenizer metadata (nil when there is none).
func TokenizerSummary(md map[string]any) *shards.Tokenizer {
	model, _ := md["tokenizer.ggml.model"].(string)
	toks, _ := md["tokenizer.ggml.tokens"].([]string)
	if model == "" && toks == nil {
		return nil
	}
	t := &shards.Tokenizer{Model: model, VocabSize: len(toks)}
	if v, ok := intValue(md["tokenizer.ggml.bos_token_id"]); ok {
		t.BOS = &v
	}
	if v, ok := intValue(md["tokenizer.ggml.eos_token_id"]); ok {
		t.EOS = &v
	}
	tmpl, _ := md["tokenizer.chat_template"].(string)
	t.HasChatTemplate = tmpl != ""
	return t
}

func intValue(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case int8:
		return int(x), true
	case int16:
		return int(x), true
	case int32:
		return int(x), true
	case int64:
		return int(x), true
	case uint8:
		return int(x), true
	case uint16:
		return int(x), true
	case uint32:
		return int(x), true
	case uint64:
		return int(x), true
	case float64: // JSON-decoded metadata
		if x == float64(int(x)) {
			return int(x), true
		}
	}
	return 0, false
}
