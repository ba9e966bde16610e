package main

import (
	_ "embed"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
)

// The sample page the demo summarizes.
//
//go:embed testdata/article.html
var article []byte

const articlePath = "/article.html"

// modelURLPath is where a local model file is served for the worker's
// download (its base name becomes the model id, as for any URL).
func modelURLPath(src modelSource) string { return "/models/" + path.Base(src.Path) }

// sampleHandler serves the article and, for a local model, the model file
// (with Range support, so the store's resumable download works as online).
func sampleHandler(src modelSource) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(articlePath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(article)
	})
	if src.Path != "" {
		mux.HandleFunc(modelURLPath(src), func(w http.ResponseWriter, r *http.Request) {
			f, err := os.Open(src.Path)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Cache-Control", "no-store")
			http.ServeContent(w, r, st.Name(), st.ModTime(), f)
		})
	}
	return mux
}

// serve starts h on 127.0.0.1 (the origin the e2e extension copy may fetch).
func serve(h http.Handler) (*httptest.Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	return srv, nil
}
