//go:build js && wasm

package gpu

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/hack-pad/safejs"
)

// PassTimer times one compute pass on the GPU: its begin and end
// timestamps (feature timestamp-query), resolved into a buffer at the end
// of the encoding and read back after the submission.
type PassTimer struct {
	set     safejs.Value
	resolve *Buffer
}

// NewPassTimer makes a timer; the device must have timestamp-query.
func (d *Device) NewPassTimer() (*PassTimer, error) {
	if !d.HasFeature(FeatureTimestampQuery) {
		return nil, fmt.Errorf("gpu: the device has no %s", FeatureTimestampQuery)
	}
	set, err := d.device.Call("createQuerySet", map[string]any{"type": "timestamp", "count": 2})
	if err != nil {
		return nil, fmt.Errorf("gpu: createQuerySet: %w", err)
	}
	buf, err := d.CreateBuffer("pass timer", 16, UsageQueryResolve|UsageCopySrc)
	if err != nil {
		_, _ = set.Call("destroy")
		return nil, err
	}
	return &PassTimer{set: set, resolve: buf}, nil
}

// TimePass makes the encoder's next compute pass write its begin and end
// times into t, and resolves them when the encoder submits.
func (e *Encoder) TimePass(t *PassTimer) {
	e.endPass()
	e.timer = t
}

// Elapsed reads the timed pass's GPU time (after its submission).
func (t *PassTimer) Elapsed(ctx context.Context, d *Device) (time.Duration, error) {
	b, err := d.ReadBuffer(ctx, t.resolve, 0, 16)
	if err != nil {
		return 0, err
	}
	begin, end := binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])
	if end < begin {
		return 0, fmt.Errorf("gpu: timestamps out of order (%d, %d)", begin, end)
	}
	return time.Duration(end - begin), nil
}

// Destroy frees the query set and its buffer.
func (t *PassTimer) Destroy() {
	_, _ = t.set.Call("destroy")
	t.resolve.Destroy()
}
