package safetensors

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/hack-pad/hackpadfs"
)

// IndexName is the shard index of a sharded folder; SingleName the one file
// of an unsharded one.
const (
	IndexName  = "model.safetensors.index.json"
	SingleName = "model.safetensors"
)

// Folder is the set of safetensors files of a model folder.
type Folder struct {
	Dir     string   // the folder, as given to OpenFolder or OpenDir
	Tensors []Tensor // every tensor: files in name order, each sorted by offset
	fsys    hackpadfs.FS
}

// OpenDir opens a folder of the OS file system.
func OpenDir(dir string) (*Folder, error) {
	f, err := OpenFolder(os.DirFS(dir), ".")
	if err != nil {
		return nil, err
	}
	f.Dir = dir
	return f, nil
}

// OpenFolder reads dir's model.safetensors.index.json and checks every shard
// it names; without an index it reads model.safetensors, or else every
// *.safetensors file in dir. Tensor.File is the file's path in fsys.
func OpenFolder(fsys hackpadfs.FS, dir string) (*Folder, error) {
	f := &Folder{Dir: dir, fsys: fsys}
	idx, err := readIndex(fsys, path.Join(dir, IndexName))
	switch {
	case err == nil:
		return f, f.loadIndexed(idx)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	names := []string{SingleName}
	if _, err := hackpadfs.Stat(fsys, path.Join(dir, SingleName)); err != nil {
		entries, err := hackpadfs.ReadDir(fsys, dir)
		if err != nil {
			return nil, fmt.Errorf("safetensors: %w", err)
		}
		names = names[:0]
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".safetensors") {
				names = append(names, e.Name())
			}
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("safetensors: %s has no %s, %s or other *.safetensors file", dir, IndexName, SingleName)
		}
		sort.Strings(names)
	}
	seen := map[string]string{}
	for _, name := range names {
		h, err := f.readFile(name)
		if err != nil {
			return nil, err
		}
		for _, t := range h.Tensors {
			if other, dup := seen[t.Name]; dup {
				return nil, fmt.Errorf("safetensors: tensor %q is in both %s and %s", t.Name, other, t.File)
			}
			seen[t.Name] = t.File
		}
		f.Tensors = append(f.Tensors, h.Tensors...)
	}
	return f, nil
}

type index struct {
	Metadata struct {
		TotalSize json.Number `json:"total_size"`
	} `json:"metadata"`
	WeightMap map[string]string `json:"weight_map"`
}

func readIndex(fsys hackpadfs.FS, p string) (*index, error) {
	info, err := hackpadfs.Stat(fsys, p)
	if err != nil {
		return nil, err
	}
	if info.Size() > MaxHeaderSize {
		return nil, fmt.Errorf("safetensors: %s is %d bytes, more than an index can sensibly be", p, info.Size())
	}
	b, err := hackpadfs.ReadFile(fsys, p)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	var idx index
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("safetensors: %s: %w", p, err)
	}
	if len(idx.WeightMap) == 0 {
		return nil, fmt.Errorf("safetensors: %s has no weight_map entries", p)
	}
	return &idx, nil
}

// loadIndexed reads each shard the index names and checks it holds exactly
// the tensors the index maps to it.
func (f *Folder) loadIndexed(idx *index) error {
	byShard := map[string]map[string]bool{}
	for name, shard := range idx.WeightMap {
		if shard == "" || shard == "." || shard == ".." || strings.ContainsAny(shard, `/\`) {
			return fmt.Errorf("safetensors: %s maps %q to %q, which is not a file name in the folder", IndexName, name, shard)
		}
		if byShard[shard] == nil {
			byShard[shard] = map[string]bool{}
		}
		byShard[shard][name] = true
	}
	shards := make([]string, 0, len(byShard))
	for s := range byShard {
		shards = append(shards, s)
	}
	sort.Strings(shards)
	for _, shard := range shards {
		h, err := f.readFile(shard)
		if err != nil {
			return err
		}
		want := byShard[shard]
		for _, t := range h.Tensors {
			if !want[t.Name] {
				if other, ok := idx.WeightMap[t.Name]; ok {
					return fmt.Errorf("safetensors: %s holds tensor %q, which %s puts in %s", shard, t.Name, IndexName, other)
				}
				return fmt.Errorf("safetensors: %s holds tensor %q, which %s does not list", shard, t.Name, IndexName)
			}
			delete(want, t.Name)
		}
		if len(want) > 0 {
			missing := make([]string, 0, len(want))
			for n := range want {
				missing = append(missing, n)
			}
			sort.Strings(missing)
			return fmt.Errorf("safetensors: %s lists %q in %s, which does not hold it", IndexName, missing[0], shard)
		}
		f.Tensors = append(f.Tensors, h.Tensors...)
	}
	// total_size is the sum of the tensors' bytes: a cheap check that the
	// index and shards belong together.
	if ts, err := idx.Metadata.TotalSize.Int64(); err == nil {
		var sum int64
		for _, t := range f.Tensors {
			sum += t.Size
		}
		if sum != ts {
			return fmt.Errorf("safetensors: %s says total_size %d, its shards hold %d bytes of tensors", IndexName, ts, sum)
		}
	}
	return nil
}

func (f *Folder) readFile(name string) (*Header, error) {
	p := path.Join(f.Dir, name)
	file, err := f.fsys.Open(p)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		return nil, fmt.Errorf("safetensors: %s: %w", p, err)
	}
	h, err := ReadHeader(readerAt{file}, info.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	for i := range h.Tensors {
		h.Tensors[i].File = p
	}
	return h, nil
}

// Tensor finds a tensor by name.
func (f *Folder) Tensor(name string) (Tensor, bool) {
	for _, t := range f.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return Tensor{}, false
}

// ReadTensor reads a tensor's bytes from its file.
func (f *Folder) ReadTensor(t Tensor) ([]byte, error) {
	file, err := f.fsys.Open(t.File)
	if err != nil {
		return nil, fmt.Errorf("safetensors: tensor %q: %w", t.Name, err)
	}
	defer file.Close()
	if t.Size < 0 || t.Offset < 0 {
		return nil, fmt.Errorf("safetensors: tensor %q: bad extent %d+%d", t.Name, t.Offset, t.Size)
	}
	b := make([]byte, t.Size)
	if n, err := (readerAt{file}).ReadAt(b, t.Offset); n < len(b) {
		return nil, fmt.Errorf("safetensors: tensor %q: reading %d bytes at offset %d of %s: %w", t.Name, t.Size, t.Offset, t.File, err)
	}
	return b, nil
}

// readerAt adapts a hackpadfs file; files without ReadAt fail on first use.
type readerAt struct{ f hackpadfs.File }

func (r readerAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := hackpadfs.ReadAtFile(r.f, p, off)
	if n == len(p) && err == io.EOF {
		err = nil
	}
	return n, err
}
