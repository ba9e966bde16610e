package arch_test

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/engine/model"
)

// memSource is an in-memory model.Source for tests.
type memSource struct {
	cfg     *model.Config
	tensors []model.TensorInfo
	data    map[string][]byte
	reads   map[string]int
}

func newMemSource(cfg *model.Config) *memSource {
	return &memSource{cfg: cfg, data: map[string][]byte{}, reads: map[string]int{}}
}

// add stores f32 values under name with a ggml shape.
func (s *memSource) add(name string, vals []float32, shape ...int64) {
	b := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	s.tensors = append(s.tensors, model.TensorInfo{Name: name, Shape: shape, DType: dtype.F32})
	s.data[name] = b
}

func (s *memSource) Config() *model.Config       { return s.cfg }
func (s *memSource) Tensors() []model.TensorInfo { return s.tensors }
func (s *memSource) Metadata() map[string]any    { return nil }
func (s *memSource) Close() error                { return nil }
func (s *memSource) ReadTensor(n string) ([]byte, error) {
	b, ok := s.data[n]
	if !ok {
		return nil, fmt.Errorf("no tensor %s", n)
	}
	s.reads[n]++
	return b, nil
}

// overlay wraps a Source with a replaced config, extra tensors and hidden ones.
type overlay struct {
	model.Source
	cfg   *model.Config
	extra *memSource
	hide  string
}

func (o overlay) Config() *model.Config { return o.cfg }
func (o overlay) Tensors() []model.TensorInfo {
	var out []model.TensorInfo
	for _, t := range o.Source.Tensors() {
		if t.Name != o.hide {
			out = append(out, t)
		}
	}
	return append(out, o.extra.tensors...)
}
func (o overlay) ReadTensor(n string) ([]byte, error) {
	if _, ok := o.extra.data[n]; ok {
		return o.extra.ReadTensor(n)
	}
	return o.Source.ReadTensor(n)
}
