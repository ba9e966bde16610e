package arch

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/doppler-engine/doppler/engine/model"
)

// Weights are bound to struct fields by tag, once at load:
//
//	Embed  Tensor       `gguf:"token_embd"`              // token_embd.weight, required
//	Output Tensor       `gguf:"output,alt=token_embd"`   // falls back to another tensor (tied embeddings)
//	Freqs  Tensor       `gguf:"rope_freqs,optional"`     // nil when absent
//	Gate   Tensor       `gguf:"ffn_gate,if=dense"`       // required exactly when the condition holds
//	Layers []llamaLayer `gguf:"blk"`                     // cfg.Layers entries bound under "blk.N."
//
// Conditions come from the config (see conditions), so a tensor that must be
// there is never silently optional, and one that must not be there is not read.

var tensorType = reflect.TypeOf((*Tensor)(nil)).Elem()

type binder struct {
	src   model.Source
	be    Backend
	infos map[string]model.TensorInfo
	conds map[string]bool
	// loaded shares one handle between fields bound to the same tensor
	// (tied embeddings read token_embd once).
	loaded map[string]Tensor
}

func conditions(cfg *model.Config) map[string]bool {
	return map[string]bool{
		"moe":   cfg.Experts > 0,
		"dense": cfg.Experts == 0,
	}
}

type tagOpts struct {
	name     string
	optional bool
	alt      string
	cond     string
}

func parseTag(tag string) tagOpts {
	parts := strings.Split(tag, ",")
	o := tagOpts{name: parts[0]}
	for _, p := range parts[1:] {
		switch {
		case p == "optional":
			o.optional = true
		case strings.HasPrefix(p, "alt="):
			o.alt = strings.TrimPrefix(p, "alt=")
		case strings.HasPrefix(p, "if="):
			o.cond = strings.TrimPrefix(p, "if=")
		}
	}
	return o
}

// bind fills every tagged field of the struct that ptr points to.
func (bd *binder) bind(ptr any, prefix string, layers int) error {
	v := reflect.ValueOf(ptr).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("gguf")
		if !ok {
			continue
		}
		o := parseTag(tag)
		fv := v.Field(i)
		switch {
		case f.Type == tensorType:
			w, err := bd.tensor(prefix, o)
			if err != nil {
				return err
			}
			if w != nil {
				fv.Set(reflect.ValueOf(w))
			}
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
			s := reflect.MakeSlice(f.Type, layers, layers)
			for n := 0; n < layers; n++ {
				if err := bd.bind(s.Index(n).Addr().Interface(), fmt.Sprintf("%s%s.%d.", prefix, o.name, n), layers); err != nil {
					return err
				}
			}
			fv.Set(s)
		default:
			return fmt.Errorf("arch: field %s has a gguf tag but type %s", f.Name, f.Type)
		}
	}
	return nil
}

func (bd *binder) tensor(prefix string, o tagOpts) (Tensor, error) {
	if o.cond != "" {
		on, known := bd.conds[o.cond]
		if !known {
			return nil, fmt.Errorf("arch: unknown tag condition %q", o.cond)
		}
		if !on {
			return nil, nil
		}
	}
	for _, name := range []string{o.name, o.alt} {
		if name == "" {
			continue
		}
		full := prefix + name + ".weight"
		if o.alt == name {
			full = name + ".weight" // alternatives are top-level tensors
		}
		if w, ok := bd.loaded[full]; ok {
			return w, nil
		}
		info, ok := bd.infos[full]
		if !ok {
			continue
		}
		raw, err := bd.src.ReadTensor(full)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", full, err)
		}
		w, err := bd.be.Weight(info, raw)
		if err != nil {
			return nil, fmt.Errorf("loading %s: %w", full, err)
		}
		bd.loaded[full] = w
		return w, nil
	}
	if o.optional {
		return nil, nil
	}
	return nil, fmt.Errorf("the model has no tensor %s.weight", prefix+o.name)
}
