package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/doppler-engine/doppler/engine/shards"
	"github.com/doppler-engine/doppler/storage"
	"github.com/hack-pad/hackpadfs"
)

// DownloadRequest names what to download: a catalog entry or any GGUF URL.
type DownloadRequest struct {
	CatalogID string
	URL       string
	ID        string // model id; default: the catalog id or the URL's file name
	SHA256    string // expected SHA-256 of the file (the catalog's when empty)
	Name      string // display name; default: the catalog name or the file name
}

// Download fetches a GGUF file and converts it into a shard folder as it
// arrives: no copy of the GGUF is kept and the file is never whole in
// memory. A dropped connection is resumed with an HTTP Range request from
// the last shard closed, up to Options.Retries times; a later call (after
// a browser restart, a killed worker, a quota or network error) resumes
// from the progress saved in the model folder. The model is listed ready
// only once every shard was re-read and its SHA-256 verified. Errors are
// *Error values.
func (s *Store) Download(ctx context.Context, req DownloadRequest, progress ProgressFunc) (*Model, error) {
	rec, expect, err := s.resolve(req)
	if err != nil {
		return nil, err
	}
	id := rec.ID
	ctx, done, err := s.start(ctx, id)
	if err != nil {
		return nil, err
	}
	defer done()
	if m, err := s.describe(id); err == nil && m.Ready {
		return &m, nil
	}
	if err := s.download(ctx, rec, expect, progress); err != nil {
		return nil, classify(id, redownload(*rec), err)
	}
	m, err := s.describe(id)
	if err != nil {
		return nil, classify(id, redownload(*rec), err)
	}
	return &m, nil
}

// Resume continues the unfinished download of model id (after a restart of
// the browser or the worker, or an error), from its saved progress.
func (s *Store) Resume(ctx context.Context, id string, progress ProgressFunc) (*Model, error) {
	var rec Record
	if !validID(id) || readJSON(s.fs, path.Join(s.dir(id), recordName), &rec) != nil {
		return nil, &Error{Code: CodeNoModel, ModelID: id, Message: fmt.Sprintf("No download of %s to resume.", id)}
	}
	if strings.HasPrefix(rec.Source, "file:") {
		return nil, &Error{Code: CodeNoModel, ModelID: id, Message: fmt.Sprintf("%s was imported from a file: import it again.", id)}
	}
	req := DownloadRequest{ID: id, Name: rec.Name, CatalogID: rec.CatalogID}
	if rec.CatalogID == "" {
		req.URL = rec.Source
		var st progressState
		if readJSON(s.fs, path.Join(s.dir(id), stateName), &st) == nil {
			req.SHA256 = st.SHA256
		}
	}
	return s.Download(ctx, req, progress)
}

func (s *Store) resolve(req DownloadRequest) (*Record, string, error) {
	rec := &Record{ID: req.ID, Name: req.Name, Source: req.URL, Created: s.o.Now().UTC()}
	expect := req.SHA256
	if req.CatalogID != "" {
		e, ok := Lookup(req.CatalogID)
		if !ok {
			return nil, "", &Error{Code: CodeNoModel, ModelID: req.CatalogID, Message: fmt.Sprintf("%q is not in the model catalog.", req.CatalogID)}
		}
		rec.CatalogID, rec.Source, rec.Architecture, rec.Quantization = e.ID, e.URL, e.Architecture, e.Quantization
		rec.SourceBytes = e.Bytes
		if rec.ID == "" {
			rec.ID = e.ID
		}
		if rec.Name == "" {
			rec.Name = e.Name
		}
		if expect == "" {
			expect = e.SHA256
		}
	}
	u, err := url.Parse(rec.Source)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, "", &Error{Code: CodeInvalidModel, ModelID: rec.ID, Message: fmt.Sprintf("%q is not an http(s) URL of a GGUF file.", rec.Source)}
	}
	if rec.ID == "" {
		rec.ID = makeID(path.Base(u.Path))
	}
	if rec.Name == "" {
		rec.Name = path.Base(u.Path)
	}
	if !validID(rec.ID) {
		return nil, "", &Error{Code: CodeInvalidModel, ModelID: rec.ID, Message: fmt.Sprintf("%q is not a valid model id (a-z, 0-9, '.', '_', '-').", rec.ID)}
	}
	return rec, strings.ToLower(expect), nil
}

func (s *Store) download(ctx context.Context, rec *Record, expect string, progress ProgressFunc) error {
	dir := s.dir(rec.ID)
	st, resumed := s.loadState(rec, expect)
	if !resumed && exists(s.fs, dir) {
		// A stale folder (a corrupt model, another source): start clean.
		if err := hackpadfs.RemoveAll(s.fs, dir); err != nil {
			return err
		}
	}
	j := &job{s: s, id: rec.ID, dir: dir, st: st, rec: rec, m: newMeter(rec.ID, progress, s.o.Now), persist: true, buf: make([]byte, 1<<20)}
	backoff := s.o.Backoff
	for attempt := 0; ; attempt++ {
		err := s.attempt(ctx, j)
		if err == nil {
			return nil
		}
		var ne *networkError
		if !errors.As(err, &ne) || ctx.Err() != nil || attempt >= s.o.Retries {
			if errors.Is(err, storage.ErrQuotaExceeded) {
				s.dropUncommitted(j)
			}
			return err
		}
		// Resume from what was saved, not from what was in flight.
		if fresh, ok := s.loadState(rec, expect); ok {
			j.st = fresh
		} else {
			j.st = newState(rec, expect, s.o.ShardSize)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

func newState(rec *Record, expect string, shardSize int64) *progressState {
	return &progressState{Source: rec.Source, SHA256: expect, ShardSize: shardSize, Size: -1}
}

// loadState returns the saved progress of rec's folder when it belongs to
// the same source, else a fresh state.
func (s *Store) loadState(rec *Record, expect string) (*progressState, bool) {
	var st progressState
	if err := readJSON(s.fs, path.Join(s.dir(rec.ID), stateName), &st); err != nil || st.Source != rec.Source || st.SHA256 != expect {
		return newState(rec, expect, s.o.ShardSize), false
	}
	var old Record
	if readJSON(s.fs, path.Join(s.dir(rec.ID), recordName), &old) == nil {
		rec.Created, rec.Architecture, rec.Quantization = old.Created, old.Architecture, old.Quantization
	}
	return &st, true
}

// attempt makes one request (ranged when resuming) and converts its body.
func (s *Store) attempt(ctx context.Context, j *job) error {
	st := j.st
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, st.Source, nil)
	if err != nil {
		return err
	}
	if st.Offset > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(st.Offset, 10)+"-")
		if st.ETag != "" && !strings.HasPrefix(st.ETag, "W/") {
			req.Header.Set("If-Range", st.ETag)
		} else if st.LastModified != "" {
			req.Header.Set("If-Range", st.LastModified)
		}
	}
	resp, err := s.o.Client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &networkError{err}
	}
	defer resp.Body.Close()
	start := int64(0)
	switch resp.StatusCode {
	case http.StatusOK:
		if st.Offset > 0 && sameFile(st, resp) {
			// The server ignores Range: read and drop what we already have.
			if _, err := io.CopyN(io.Discard, resp.Body, st.Offset); err != nil {
				return &networkError{err}
			}
			start = st.Offset
		} else if st.Offset > 0 {
			// The file changed since the first attempt: start over.
			*st = *newState(j.rec, st.SHA256, st.ShardSize)
		}
	case http.StatusPartialContent:
		first, total, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || first != st.Offset || (st.Size >= 0 && total >= 0 && total != st.Size) {
			return &networkError{fmt.Errorf("server answered range %q to a request from byte %d", resp.Header.Get("Content-Range"), st.Offset)}
		}
		start = st.Offset
	default:
		err := fmt.Errorf("GET %s: HTTP %s", st.Source, resp.Status)
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			return &networkError{err}
		}
		return &Error{Code: CodeNetwork, ModelID: j.id, Source: redownload(*j.rec), Message: fmt.Sprintf("The model file could not be downloaded (%v).", err), Err: err}
	}
	if st.Size < 0 || start == 0 {
		st.Size = resp.ContentLength + start
		if resp.ContentLength < 0 {
			st.Size = -1
		}
		st.ETag, st.LastModified = resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	}

	// Room for what is still to come, checked before anything is written.
	need := st.Size - st.Committed.Bytes - st.HeaderBytes
	if st.Size < 0 {
		need = j.rec.SourceBytes - st.Committed.Bytes
	}
	if err := s.checkRoom(ctx, j.id, need); err != nil {
		return err
	}
	if st.Size > 0 {
		j.rec.SourceBytes = st.Size
	}
	if err := hackpadfs.MkdirAll(s.fs, j.dir, 0o755); err != nil {
		return err
	}
	if err := writeJSON(s.fs, path.Join(j.dir, recordName), j.rec); err != nil {
		return err
	}
	src := &source{ctx: ctx, r: resp.Body, off: start, size: st.Size, net: true}
	if st.SHA256 != "" {
		if src.hash, err = restoreHash(st.Hash); err != nil {
			return err
		}
		if start == 0 {
			src.hash.Reset()
		}
	}
	if start == 0 {
		st.Offset, st.Next, st.HeaderBytes, st.Hash, st.Committed = 0, 0, 0, nil, shards.Committed{}
	}
	return j.convert(src)
}

// sameFile tells whether a full response is the file the saved progress
// came from (same validator, or none to compare).
func sameFile(st *progressState, resp *http.Response) bool {
	if et := resp.Header.Get("ETag"); et != "" && st.ETag != "" {
		return et == st.ETag
	}
	if lm := resp.Header.Get("Last-Modified"); lm != "" && st.LastModified != "" {
		return lm == st.LastModified
	}
	return resp.ContentLength < 0 || st.Size < 0 || resp.ContentLength == st.Size
}

// parseContentRange reads "bytes FIRST-LAST/TOTAL" (TOTAL may be *).
func parseContentRange(v string) (first, total int64, ok bool) {
	v, found := strings.CutPrefix(v, "bytes ")
	if !found {
		return 0, 0, false
	}
	span, tot, found := strings.Cut(v, "/")
	if !found {
		return 0, 0, false
	}
	a, _, found := strings.Cut(span, "-")
	if !found {
		return 0, 0, false
	}
	first, err := strconv.ParseInt(a, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	total = -1
	if tot != "*" {
		if total, err = strconv.ParseInt(tot, 10, 64); err != nil {
			return 0, 0, false
		}
	}
	return first, total, true
}

// dropUncommitted removes shard files written after the last saved point
// (after a quota error: give the space back, keep what can be resumed).
func (s *Store) dropUncommitted(j *job) {
	st, ok := s.loadState(j.rec, j.st.SHA256)
	keep := 0
	if ok {
		keep = len(st.Committed.Shards)
	}
	for i := keep; ; i++ {
		p := path.Join(j.dir, shards.ShardName(i))
		if !exists(s.fs, p) {
			return
		}
		hackpadfs.Remove(s.fs, p)
	}
}
