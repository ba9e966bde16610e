package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// st is a tensor for makeFile.
type st struct {
	name  string
	dtype string
	shape []int64
}

// makeFile builds a valid safetensors file, tensors packed in order, each
// filled with a pattern derived from its index.
func makeFile(t testing.TB, meta map[string]string, tensors ...st) []byte {
	t.Helper()
	hdr := map[string]any{}
	if meta != nil {
		hdr["__metadata__"] = meta
	}
	var data bytes.Buffer
	for i, x := range tensors {
		n := int64(1)
		for _, d := range x.shape {
			n *= d
		}
		size := n * dtypeBits[x.dtype] / 8
		begin := int64(data.Len())
		for j := int64(0); j < size; j++ {
			data.WriteByte(byte(int64(i)*13 + j))
		}
		hdr[x.name] = map[string]any{"dtype": x.dtype, "shape": x.shape, "data_offsets": []int64{begin, begin + size}}
	}
	js, err := json.Marshal(hdr)
	require.NoError(t, err)
	return rawFile(string(js), data.Bytes())
}

// rawFile puts a header text (padded to 8 bytes like the reference writer)
// in front of data.
func rawFile(header string, data []byte) []byte {
	for len(header)%8 != 0 {
		header += " "
	}
	var b bytes.Buffer
	_ = binary.Write(&b, binary.LittleEndian, uint64(len(header)))
	b.WriteString(header)
	b.Write(data)
	return b.Bytes()
}

func readBytes(b []byte) (*Header, error) { return ReadHeader(bytes.NewReader(b), int64(len(b))) }
