package gpuops

import "fmt"

// span is a bindable chunk of a weight's rows: the rows
// [rowStart, rowStart+rows) of a part live at byte wbase of the binding
// [bindOffset, bindOffset+bindSize) of its buffer.
type span struct {
	rowStart, rows       int
	bindOffset, bindSize uint64
	wbase                uint64
}

// splitRows splits rows of rowBytes each, starting at byte offset of a
// buffer of bufSize bytes, into bindings of at most maxBinding bytes whose
// offsets are multiples of align (the rows' start within the binding is
// passed to kernels as wbase). Binding sizes are multiples of 4.
func splitRows(offset uint64, rows int, rowBytes, maxBinding, align, bufSize uint64) ([]span, error) {
	if rowBytes == 0 || rows <= 0 {
		return nil, fmt.Errorf("gpuops: no rows to bind (%d rows of %d bytes)", rows, rowBytes)
	}
	if offset%2 != 0 {
		return nil, fmt.Errorf("gpuops: weight offset %d is odd", offset)
	}
	alloc := (bufSize + 3) &^ 3
	if offset+uint64(rows)*rowBytes > bufSize {
		return nil, fmt.Errorf("gpuops: %d rows of %d bytes at %d exceed the buffer's %d bytes", rows, rowBytes, offset, bufSize)
	}
	var out []span
	for r := 0; r < rows; {
		start := offset + uint64(r)*rowBytes
		bind := start / align * align
		wbase := start - bind
		if wbase+rowBytes > maxBinding {
			return nil, fmt.Errorf("gpuops: a row of %d bytes does not fit a binding of %d bytes", rowBytes, maxBinding)
		}
		n := int((maxBinding - wbase) / rowBytes)
		n = min(n, rows-r)
		size := min((wbase+uint64(n)*rowBytes+3)&^3, alloc-bind)
		if size > maxBinding {
			// Rounding up to 4 bytes overflowed the limit: one row less.
			n--
			size = (wbase + uint64(n)*rowBytes + 3) &^ 3
		}
		out = append(out, span{rowStart: r, rows: n, bindOffset: bind, bindSize: size, wbase: wbase})
		r += n
	}
	return out, nil
}
