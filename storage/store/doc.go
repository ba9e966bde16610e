// Package store keeps Doppler's models on any hackpadfs file system: OPFS in
// the browser (storage/opfs), memory or the OS natively. It is pure Go.
//
// A model is a folder Root/ID holding the shard format of engine/shards
// (manifest.json, shard-NNNNN.bin, metadata.gguf) plus the store's
// model.json. Download and Import stream a GGUF file straight into shards:
// the header is parsed as it arrives (gguf.ReadHeader), each tensor's bytes
// go into its shard as they come, and the folder equals what native
// `doppler convert --dtype keep` makes of the same file. The GGUF is never
// kept and never whole in memory.
//
// While a download runs, download.json records what is done: the source
// bytes consumed, the shards closed (with their SHA-256) and, when the
// file's own hash is checked, the SHA-256 state. A dropped connection is
// resumed with an HTTP Range request (If-Range guards against a changed
// file; a server that ignores Range is read from the start and the known
// prefix dropped) from the last closed shard; so is a later Download after a
// closed browser, a killed service worker, a quota or network error, or a
// cancel. After the last tensor every shard is re-read and checked against
// its SHA-256 (with the browser's crypto.subtle on OPFS); only then is the
// model listed ready. Import reads an io.Reader once (the options page
// streams a File through it) and cannot resume: a failed import leaves
// nothing.
//
// Before a job writes anything, Options.Estimate (opfs.Estimate in the
// browser) must leave room for the file, else the job fails with code
// "quota". A quota error from the file system mid-way (any error matching
// storage.ErrQuotaExceeded) stops the job with code "quota", keeps what can
// be resumed and removes the unfinished shard.
//
// Every error is an *Error with a stable Code (quota, network,
// corrupt-model, no-model, cancelled, invalid-model, internal), a sentence
// for the user and, where it helps, the Source to download again. Progress
// reports (phase downloading / converting / verifying, bytes, total, rate,
// ETA) go to a callback. Catalog lists public GGUF files of the supported
// model families.
package store
