// Package opfs is a hackpadfs file system over the browser's Origin Private
// File System, using only its asynchronous API (navigator.storage
// .getDirectory(), FileSystemDirectoryHandle, FileSystemFileHandle.getFile()
// and createWritable()), which extension service workers have;
// createSyncAccessHandle, which they lack, is never used.
//
// It builds for GOOS=js GOARCH=wasm only. FS implements hackpadfs's
// OpenFileFS, MkdirFS, MkdirAllFS, RemoveFS, RemoveAllFS, RenameFS, StatFS,
// ReadDirFS and SubFS; files implement Read/Write, ReaderAt, WriterAt,
// Seeker, Syncer and Truncater, directories ReadDir. It passes hackpadfs's
// fstest conformance suite in headless Chromium, except Chmod and Chtimes,
// which OPFS has no notion of (no permission bits, no settable times).
//
// Writes: each open file (all handles of one path in this program share it)
// has at most one FileSystemWritableFileStream, opened on the first write
// and committed (closed) on Sync, Close, or before a read; contiguous small
// writes are gathered up to 1 MiB before crossing into JS, and sequential
// Reads are served from a 4 MiB read-ahead. SHA256 hashes a file with the
// browser's crypto.subtle. A writable
// stream's data is invisible until it closes, so a read of a file with
// uncommitted writes commits them first: reads always see this program's
// writes. Two programs (say an extension page and its service worker)
// writing the same file at once is last-commit-wins, as with OPFS itself.
//
// Errors are *fs.PathError / *hackpadfs.LinkError whose Err is a hackpadfs
// error or a *DOMError; errors.Is maps DOM names: NotFoundError →
// fs.ErrNotExist, InvalidModificationError → hackpadfs.ErrNotEmpty,
// NoModificationAllowedError → fs.ErrPermission, QuotaExceededError →
// storage.ErrQuotaExceeded. A quota error can surface at Write, Sync or
// Close; after it the file keeps its last committed content. Estimate
// wraps navigator.storage.estimate().
//
// Methods block on JS promises, so call them from a goroutine other than
// the JS event loop's (never synchronously inside a js.FuncOf callback).
package opfs
