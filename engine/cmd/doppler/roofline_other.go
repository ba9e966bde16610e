//go:build !(js && wasm)

package main

import "errors"

// measureRoofline is never reached natively: roofline goes through the host.
func measureRoofline(*rooflineFlags) (*rooflineReport, error) {
	return nil, errors.New("roofline needs WebGPU: run it through the Node + Dawn host")
}
