package model

import (
	"fmt"
	"io"

	"github.com/doppler-engine/doppler/engine/gguf"
	"github.com/hack-pad/hackpadfs"
)

// ggufSource reads tensors straight from a GGUF file on demand.
type ggufSource struct {
	f       *gguf.File
	r       io.ReaderAt
	closer  io.Closer
	cfg     *Config
	tensors []TensorInfo
	index   map[string]int
}

func openGGUFFS(fsys hackpadfs.FS, p string, o Options) (Source, error) {
	file, r, size, err := openReaderAt(fsys, p)
	if err != nil {
		return nil, fmt.Errorf("open model %s: %w", p, err)
	}
	src, err := NewGGUFSource(r, size, file)
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return finish(src, p, o)
}

// NewGGUFSource reads a GGUF header from r (size bytes) and returns a Source;
// closer (may be nil) is closed by Close. Files without tensors (vocab-only)
// are accepted with whatever Config the metadata gives.
func NewGGUFSource(r io.ReaderAt, size int64, closer io.Closer) (Source, error) {
	var magic [4]byte
	if _, err := r.ReadAt(magic[:], 0); err != nil || string(magic[:]) != gguf.Magic {
		return nil, fmt.Errorf("not a GGUF file (no GGUF magic): expected a .gguf file, an HF folder or a shard folder")
	}
	f, err := gguf.Read(r, size)
	if err != nil {
		return nil, err
	}
	s := &ggufSource{f: f, r: r, closer: closer, index: make(map[string]int, len(f.Tensors))}
	for i, t := range f.Tensors {
		s.tensors = append(s.tensors, TensorInfo{Name: t.Name, Shape: append([]int64(nil), t.Shape...), DType: t.Type})
		s.index[t.Name] = i
	}
	cfg, err := ConfigFromGGUF(f, s.tensors)
	if err != nil {
		if len(f.Tensors) > 0 {
			return nil, err
		}
		arch, _ := f.String("general.architecture")
		cfg = &Config{Architecture: arch}
	}
	s.cfg = cfg
	return s, nil
}

func (s *ggufSource) Config() *Config          { return s.cfg }
func (s *ggufSource) Tensors() []TensorInfo    { return s.tensors }
func (s *ggufSource) Metadata() map[string]any { return s.f.Metadata() }

func (s *ggufSource) ReadTensor(name string) ([]byte, error) {
	i, ok := s.index[name]
	if !ok {
		return nil, fmt.Errorf("no tensor %q in the GGUF file", name)
	}
	return s.f.ReadTensor(s.r, s.f.Tensors[i])
}

func (s *ggufSource) Close() error {
	if s.closer != nil {
		return s.closer.Close()
	}
	return nil
}
