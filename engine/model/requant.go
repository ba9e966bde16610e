package model

import "fmt"

// requantSource presents another source's tensors in the types a --dtype
// target chooses (see TargetType), converting each tensor when read.
type requantSource struct {
	Source
	tensors []TensorInfo
	from    map[string]TensorInfo // the source's own info
	to      map[string]TensorInfo
}

// WithDType wraps src so that its tensors read as target ("keep" or "" returns src).
func WithDType(src Source, target string) (Source, error) {
	if target == "" || target == "keep" {
		return src, nil
	}
	r := &requantSource{Source: src, from: map[string]TensorInfo{}, to: map[string]TensorInfo{}}
	for _, t := range src.Tensors() {
		dt, err := TargetType(target, t, src.Config().Layers)
		if err != nil {
			return nil, fmt.Errorf("tensor %s: %w", t.Name, err)
		}
		r.from[t.Name] = t
		t.DType = dt
		r.to[t.Name] = t
		r.tensors = append(r.tensors, t)
	}
	return r, nil
}

func (r *requantSource) Tensors() []TensorInfo { return r.tensors }

func (r *requantSource) ReadTensor(name string) ([]byte, error) {
	orig, ok := r.from[name]
	if !ok {
		return r.Source.ReadTensor(name)
	}
	data, err := r.Source.ReadTensor(name)
	if err != nil {
		return nil, err
	}
	return Requantize(orig, data, r.to[name].DType)
}
