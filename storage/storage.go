// Package storage holds what Doppler's file systems and its model store
// share. Its subpackages: opfs (the browser's Origin Private File System as
// a hackpadfs FS), httpfs (a read-only FS over HTTP Range requests) and
// store (download, convert, resume, verify, import, list and delete models
// on any hackpadfs FS).
package storage

import "errors"

// ErrQuotaExceeded is matched (errors.Is) by every error a storage layer
// returns when it refused bytes for lack of room: OPFS's QuotaExceededError,
// a store's up-front estimate check, a test FS that runs out.
var ErrQuotaExceeded = errors.New("storage quota exceeded")
