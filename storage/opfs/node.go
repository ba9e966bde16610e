//go:build js && wasm

package opfs

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/doppler-engine/doppler/engine/webjs"
	"github.com/hack-pad/safejs"
)

// maxPending bounds the bytes of contiguous writes gathered before they are
// handed to the writable stream: fewer Go→JS crossings and promises for the
// small writes of io.Copy, at most this much memory per open file. 1 MiB
// writes run about as fast as 4 MiB ones (48 MiB in 0.41 s vs 0.31 s in
// headless Chromium 156), and a refused larger write often surfaces as
// "AbortError: Failed to write data to data pipe" instead of
// QuotaExceededError (Chromium stops reading the pipe when the write fails).
const maxPending = 1 << 20

// node is the state shared by every open handle of one file in this
// program: one FileSystemWritableFileStream, opened on the first write and
// committed (closed) on Sync, on the last Close, or before a read.
//
// Reads see every write (read-your-writes), but a writable's data is
// invisible to getFile() until the stream closes, so a read of a file with
// uncommitted writes commits them first. The next write then opens a new
// writable, which Chromium starts from a copy of the file: write-then-read
// interleavings cost a copy each; sequential writing (downloads, shards)
// commits once.
type node struct {
	key    string
	handle safejs.Value // FileSystemFileHandle

	mu   sync.Mutex
	refs int

	size    int64        // logical size, uncommitted writes included
	snap    safejs.Value // cached File (a snapshot) for reads
	hasSnap bool
	w       safejs.Value // open writable
	hasW    bool
	pending []byte // contiguous bytes at pendingOff not yet written to w
	pendOff int64
	gen     uint64 // bumped by every write and truncate (read-ahead validity)
}

var nodes = struct {
	sync.Mutex
	m map[string]*node
}{m: map[string]*node{}}

// acquire returns the shared node of key, opening it with handle h.
func acquire(key string, h safejs.Value) (*node, error) {
	nodes.Lock()
	defer nodes.Unlock()
	if n, ok := nodes.m[key]; ok {
		n.mu.Lock()
		n.refs++
		n.mu.Unlock()
		return n, nil
	}
	n := &node{key: key, handle: h, refs: 1}
	snap, err := call(h, "getFile")
	if err != nil {
		return nil, err
	}
	size, err := numberProp(snap, "size")
	if err != nil {
		return nil, err
	}
	n.snap, n.hasSnap, n.size = snap, true, int64(size)
	nodes.m[key] = n
	return n, nil
}

// release drops one reference; the last one commits and forgets the node.
func (n *node) release() error {
	nodes.Lock()
	n.mu.Lock()
	n.refs--
	last := n.refs == 0
	if last {
		delete(nodes.m, n.key)
	}
	nodes.Unlock()
	defer n.mu.Unlock()
	if last {
		return n.commitLocked()
	}
	return nil
}

// lookupNode returns the open node of key, if any.
func lookupNode(key string) *node {
	nodes.Lock()
	defer nodes.Unlock()
	return nodes.m[key]
}

// commitOpen commits the open files at key (and below it when tree is set).
func commitOpen(key string, tree bool) {
	nodes.Lock()
	var open []*node
	for k, n := range nodes.m {
		if k == key || tree && len(k) > len(key) && k[:len(key)+1] == key+"/" {
			open = append(open, n)
		}
	}
	nodes.Unlock()
	for _, n := range open {
		n.mu.Lock()
		n.commitLocked()
		n.mu.Unlock()
	}
}

func (n *node) writable() error {
	if n.hasW {
		return nil
	}
	opt, err := object("keepExistingData", true)
	if err != nil {
		return err
	}
	w, err := call(n.handle, "createWritable", opt)
	if err != nil {
		return err
	}
	n.w, n.hasW = w, true
	return nil
}

// flushLocked hands the gathered bytes to the writable stream.
func (n *node) flushLocked() error {
	if len(n.pending) == 0 {
		return nil
	}
	data := n.pending
	n.pending = n.pending[:0]
	return n.writeLocked(data, n.pendOff)
}

func (n *node) writeLocked(p []byte, off int64) error {
	if err := n.writable(); err != nil {
		return err
	}
	u8, err := webjs.BytesToJS(p)
	if err != nil {
		return err
	}
	// Writing past the end fills the gap with zeros (File System spec).
	cmd, err := object("type", "write", "position", float64(off), "data", u8)
	if err != nil {
		return err
	}
	_, err = call(n.w, "write", cmd)
	if isDOM(err, "AbortError") && nearlyFull(int64(len(p))) {
		return &DOMError{Name: "QuotaExceededError", Message: "write aborted with storage (nearly) full: " + err.Error()}
	}
	return err
}

// nearlyFull tells whether the origin's estimate leaves less than n bytes
// (plus 1 MiB of slack): an aborted write then most likely met the quota.
func nearlyFull(n int64) bool {
	usage, quota, err := Estimate(context.Background())
	return err == nil && quota-usage < n+1<<20
}

// writeAt records p at off, extending the size.
func (n *node) writeAt(p []byte, off int64) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.hasSnap = false
	n.gen++
	if len(n.pending) > 0 && off == n.pendOff+int64(len(n.pending)) && len(n.pending)+len(p) <= maxPending {
		n.pending = append(n.pending, p...)
	} else {
		if err := n.flushLocked(); err != nil {
			n.abortLocked()
			return err
		}
		if len(p) >= maxPending {
			if err := n.writeLocked(p, off); err != nil {
				n.abortLocked()
				return err
			}
		} else {
			if err := n.writable(); err != nil {
				return err
			}
			n.pending = append(n.pending[:0], p...)
			n.pendOff = off
		}
	}
	if end := off + int64(len(p)); end > n.size {
		n.size = end
	}
	return nil
}

func (n *node) truncate(size int64) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.flushLocked(); err != nil {
		n.abortLocked()
		return err
	}
	if err := n.writable(); err != nil {
		return err
	}
	if _, err := call(n.w, "truncate", float64(size)); err != nil {
		n.abortLocked()
		return err
	}
	n.hasSnap = false
	n.gen++
	n.size = size
	return nil
}

// commitLocked closes the writable, making its data visible and durable.
// On failure (QuotaExceededError at close, say) the stream's data is lost
// and the file keeps its last committed content.
func (n *node) commitLocked() error {
	if !n.hasW {
		return nil
	}
	err := n.flushLocked()
	if err == nil {
		_, err = call(n.w, "close")
	}
	if err != nil {
		n.abortLocked()
		return err
	}
	n.hasW, n.hasSnap = false, false
	return nil
}

// abortLocked drops the writable and its uncommitted data after an error,
// and re-reads the committed size.
func (n *node) abortLocked() {
	if n.hasW {
		call(n.w, "abort")
	}
	n.hasW, n.hasSnap, n.pending = false, false, n.pending[:0]
	if snap, err := call(n.handle, "getFile"); err == nil {
		if size, err := numberProp(snap, "size"); err == nil {
			n.snap, n.hasSnap, n.size = snap, true, int64(size)
		}
	}
}

func (n *node) sync() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.commitLocked()
}

// snapshot returns a File of the committed content, committing first.
func (n *node) snapshotLocked() (safejs.Value, error) {
	if err := n.commitLocked(); err != nil {
		return safejs.Value{}, err
	}
	if n.hasSnap {
		return n.snap, nil
	}
	snap, err := call(n.handle, "getFile")
	if err != nil {
		return safejs.Value{}, err
	}
	size, err := numberProp(snap, "size")
	if err != nil {
		return safejs.Value{}, err
	}
	n.snap, n.hasSnap, n.size = snap, true, int64(size)
	return snap, nil
}

// readAt fills p from off, io.ReaderAt style.
func (n *node) readAt(p []byte, off int64) (int, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.readAtLocked(p, off)
}

// readAhead fills buf (up to its length) from off for a sequential reader,
// and returns how many bytes it holds and the generation they belong to.
func (n *node) readAhead(buf []byte, off int64) (int, uint64, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	got, err := n.readAtLocked(buf, off)
	return got, n.gen, err
}

func (n *node) generation() uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.gen
}

func (n *node) readAtLocked(p []byte, off int64) (int, error) {
	snap, err := n.snapshotLocked()
	if err != nil {
		return 0, err
	}
	if off >= n.size {
		return 0, io.EOF
	}
	end := off + int64(len(p))
	if end > n.size {
		end = n.size
	}
	got, err := readBlob(snap, off, end, p)
	if isDOM(err, "NotReadableError") {
		// The file changed behind the snapshot (another program): retry once.
		n.hasSnap = false
		if snap, err = n.snapshotLocked(); err == nil {
			got, err = readBlob(snap, off, end, p)
		}
	}
	if err != nil {
		return got, err
	}
	if got < len(p) {
		return got, io.EOF
	}
	return got, nil
}

func readBlob(snap safejs.Value, off, end int64, p []byte) (int, error) {
	blob, err := snap.Call("slice", float64(off), float64(end))
	if err != nil {
		return 0, jsThrow(err)
	}
	ab, err := call(blob, "arrayBuffer")
	if err != nil {
		return 0, err
	}
	ctor, err := safejs.Global().Get("Uint8Array")
	if err != nil {
		return 0, err
	}
	u8, err := ctor.New(ab)
	if err != nil {
		return 0, err
	}
	return safejs.CopyBytesToGo(p, u8)
}

func (n *node) stat() (size int64, mod time.Time, err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.hasW {
		// Uncommitted: the size is ours, the time is now.
		return n.size, time.Now(), nil
	}
	snap, err := n.snapshotLocked()
	if err != nil {
		return 0, time.Time{}, err
	}
	ms, err := numberProp(snap, "lastModified")
	if err != nil {
		return 0, time.Time{}, err
	}
	return n.size, time.UnixMilli(int64(ms)), nil
}

func numberProp(v safejs.Value, p string) (float64, error) {
	x, err := v.Get(p)
	if err != nil {
		return 0, err
	}
	return x.Float()
}
