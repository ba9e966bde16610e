// Command zipdir writes a directory's files into a zip archive with fixed
// timestamps and sorted entries, so the same extension build gives the same
// bytes (make build uses it for the Chrome Web Store upload).
//
//	go run ./build/zipdir -store -o dist/doppler-extension.zip dist/extension
//
// -store prepares a Chrome Web Store upload: the manifest's "key" (which
// pins the extension ID of unpacked builds) is left out, as the store
// assigns its own.
package main

import (
	"archive/zip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

func main() {
	out := flag.String("o", "", "zip file to write")
	store := flag.Bool("store", false, "drop the \"key\" of manifest.json (Chrome Web Store upload)")
	flag.Parse()
	if *out == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: zipdir -o OUT.zip DIR")
		os.Exit(2)
	}
	if err := zipDir(*out, flag.Arg(0), *store); err != nil {
		fmt.Fprintln(os.Stderr, "zipdir:", err)
		os.Exit(1)
	}
}

// epoch is the timestamp of every entry (zip cannot store earlier than 1980).
var epoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

func zipDir(out, dir string, store bool) (err error) {
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	zw := zip.NewWriter(f)
	// WalkDir visits entries in lexical order: the archive is reproducible.
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file", path)
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: filepath.ToSlash(rel), Method: zip.Deflate, Modified: epoch})
		if err != nil {
			return err
		}
		if store && rel == "manifest.json" {
			data, err := manifestWithoutKey(path)
			if err != nil {
				return err
			}
			_, err = w.Write(data)
			return err
		}
		src, err := os.Open(path)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(w, src)
		return err
	})
	if err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

// manifestWithoutKey returns the manifest at path without its "key".
func manifestWithoutKey(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	delete(m, "key")
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}
