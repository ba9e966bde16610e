// Package webjs holds small helpers over github.com/hack-pad/safejs for Go
// code compiled to js/wasm: awaiting JS promises, exposing Go functions as
// Promise-returning JS functions, byte copies and JS errors as Go errors.
//
// The rule that shapes it: a Go function called from JavaScript must never
// block (Go's js/wasm runtime then reports "all goroutines are asleep -
// deadlock!"), so such a function returns a Promise (see Promise) and does
// its waiting (see Await) in a goroutine of its own.
package webjs
