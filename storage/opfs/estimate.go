//go:build js && wasm

package opfs

import (
	"context"
	"errors"

	"github.com/hack-pad/safejs"
)

// Estimate is navigator.storage.estimate(): the bytes the origin uses and
// its quota. Its signature fits the model store's EstimateFunc.
func Estimate(ctx context.Context) (usage, quota int64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	nav, err := safejs.Global().Get("navigator")
	if err != nil {
		return 0, 0, err
	}
	st, err := nav.Get("storage")
	if err != nil {
		return 0, 0, err
	}
	if st.IsUndefined() {
		return 0, 0, errors.New("opfs: navigator.storage is missing")
	}
	est, err := call(st, "estimate")
	if err != nil {
		return 0, 0, err
	}
	u, err := numberProp(est, "usage")
	if err != nil {
		return 0, 0, err
	}
	q, err := numberProp(est, "quota")
	if err != nil {
		return 0, 0, err
	}
	return int64(u), int64(q), nil
}
