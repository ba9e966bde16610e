package main

import (
	"embed"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
)

//go:embed assets
var assets embed.FS

// server hands the program and its harness to the browser and receives the
// program's output and exit code.
type server struct {
	ln       net.Listener
	http     *http.Server
	url      string
	wasmPath string
	execJS   string
	config   []byte

	exitOnce sync.Once
	exit     chan int

	mu    sync.Mutex
	quota func(origin string, bytes int64) error // set once the browser runs
}

func newServer(wasmPath string, args []string, env map[string]string) (*server, error) {
	if _, err := os.Stat(wasmPath); err != nil {
		return nil, err
	}
	execJS, err := wasmExecJS()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &server{ln: ln, url: "http://" + ln.Addr().String(), wasmPath: wasmPath, execJS: execJS, exit: make(chan int, 1)}
	env["BROWSERTEST_ORIGIN_URL"] = s.url
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.asset("assets/index.html", "text/html"))
	mux.HandleFunc("GET /harness.js", s.asset("assets/harness.js", "text/javascript"))
	mux.HandleFunc("GET /wasm_exec.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		http.ServeFile(w, r, s.execJS)
	})
	mux.HandleFunc("GET /test.wasm", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/wasm")
		http.ServeFile(w, r, s.wasmPath)
	})
	mux.HandleFunc("GET /config.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(s.config)
	})
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("POST /output", s.output)
	mux.HandleFunc("POST /exit", func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(r.URL.Query().Get("code"))
		if err != nil {
			code = exitHarness
		}
		s.exitOnce.Do(func() { s.exit <- code })
	})
	mux.HandleFunc("POST /quota", s.setQuota)
	if dir := filesDir(); dir != "" {
		mux.Handle("GET /files/", http.StripPrefix("/files/", http.FileServer(http.Dir(dir))))
		env["BROWSERTEST_FILES_URL"] = s.url + "/files/"
	}
	s.config, err = json.Marshal(map[string]any{
		"argv": append([]string{filepath.Base(wasmPath)}, args...),
		"env":  env,
	})
	if err != nil {
		return nil, err
	}
	s.http = &http.Server{Handler: cors(mux)}
	go s.http.Serve(ln)
	return s, nil
}

func (s *server) Close() { s.http.Close() }

// cors lets the extension's service worker (origin chrome-extension://…)
// read these responses.
func cors(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Cache-Control", "no-store")
		if r.Method == http.MethodOptions {
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (s *server) asset(name, ctype string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := assets.ReadFile(name)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", ctype)
		w.Write(b)
	}
}

// output copies frames [fd u8][len u32 LE][bytes] to our stdout/stderr.
func (s *server) output(w http.ResponseWriter, r *http.Request) {
	var hdr [5]byte
	for {
		if _, err := io.ReadFull(r.Body, hdr[:]); err != nil {
			return
		}
		dst := io.Writer(os.Stdout)
		if hdr[0] == 2 {
			dst = os.Stderr
		}
		if _, err := io.CopyN(dst, r.Body, int64(binary.LittleEndian.Uint32(hdr[1:]))); err != nil {
			fmt.Fprintf(os.Stderr, "browsertest: output: %v\n", err)
			return
		}
	}
}

func (s *server) setQuota(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.ParseInt(r.URL.Query().Get("bytes"), 10, 64)
	if err != nil {
		http.Error(w, "bytes: "+err.Error(), http.StatusBadRequest)
		return
	}
	origin := r.Header.Get("Origin")
	s.mu.Lock()
	set := s.quota
	s.mu.Unlock()
	if set == nil || origin == "" {
		http.Error(w, "no browser or no Origin header", http.StatusServiceUnavailable)
		return
	}
	if err := set(origin, n); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
	}
}

func (s *server) setQuotaFunc(f func(origin string, bytes int64) error) {
	s.mu.Lock()
	s.quota = f
	s.mu.Unlock()
}

// wasmExecJS finds the wasm_exec.js of the Go that built the program.
func wasmExecJS() (string, error) {
	root := os.Getenv("GOROOT")
	if root == "" {
		root = runtime.GOROOT()
	}
	for _, p := range []string{"lib/wasm/wasm_exec.js", "misc/wasm/wasm_exec.js"} {
		if f := filepath.Join(root, p); fileExists(f) {
			return f, nil
		}
	}
	return "", fmt.Errorf("no wasm_exec.js under GOROOT %q; set GOROOT", root)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// filesDir is the folder served at /files/ (GET, HEAD, Range): test data a
// program in the browser can fetch. BROWSERTEST_SERVE names it; else the
// project's test models ($DOPPLER_TEST_MODELS, or ../shared/models beside
// the repository holding the current directory) when they exist.
func filesDir() string {
	if d := os.Getenv("BROWSERTEST_SERVE"); d != "" {
		return d
	}
	if d := os.Getenv("DOPPLER_TEST_MODELS"); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for d := wd; d != filepath.Dir(d); d = filepath.Dir(d) {
		if fileExists(filepath.Join(d, "go.mod")) {
			if m := filepath.Join(d, "..", "shared", "models"); fileExists(m) {
				return filepath.Clean(m)
			}
			return ""
		}
	}
	return ""
}
