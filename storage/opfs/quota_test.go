//go:build js && wasm

package opfs

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"

	"github.com/doppler-engine/doppler/storage"
	"github.com/hack-pad/hackpadfs"
	"github.com/stretchr/testify/require"
)

// setQuota asks the browsertest runner to override this origin's quota
// (CDP Storage.overrideQuotaForOrigin); bytes < 0 restores the default.
func setQuota(t *testing.T, bytes int64) {
	base := os.Getenv("BROWSERTEST_ORIGIN_URL")
	if base == "" {
		t.Skip("needs the build/browsertest runner, which can override the origin's quota")
	}
	resp, err := http.Post(fmt.Sprintf("%s/quota?bytes=%d", base, bytes), "text/plain", nil)
	require.NoError(t, err)
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(msg))
}

func TestQuotaExceededMapsToStorageError(t *testing.T) {
	fsys := newTestFS(t)
	usage, _, err := Estimate(context.Background())
	require.NoError(t, err)
	setQuota(t, usage+1<<20)
	t.Cleanup(func() { setQuota(t, -1) })

	f, err := fsys.OpenFile("big", hackpadfs.FlagWriteOnly|hackpadfs.FlagCreate, 0o666)
	require.NoError(t, err)
	chunk := randomBytes(1 << 20)
	var werr error
	for i := 0; i < 8 && werr == nil; i++ {
		_, werr = f.(*file).Write(chunk)
	}
	cerr := f.Close()
	err = werr
	if err == nil {
		err = cerr
	}
	require.Error(t, err, "8 MiB fit in a 1 MiB quota")
	require.ErrorIs(t, err, storage.ErrQuotaExceeded)
	t.Logf("refused with: %v", err)

	// The failed writable left nothing behind; the FS is still usable.
	info, err := fsys.Stat("big")
	require.NoError(t, err)
	require.Less(t, info.Size(), int64(8<<20))
	setQuota(t, -1)
	require.NoError(t, hackpadfs.WriteFullFile(fsys, "small", []byte("ok"), 0o666))
}
