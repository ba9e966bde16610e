package gpuops

import "fmt"

// Block geometry of the tiled prompt-chunk attention kernel
// (kernels/attention_prefill.wgsl), a function of head_dim (and of the
// variables below).
const (
	// prefillShared is the workgroup memory a block's tiles may take: BC
	// follows from it. WebGPU guarantees 16 KiB (SwiftShader and lavapipe in
	// CI give no more), but fewer keys per tile ran faster on the H200: more
	// workgroups share an SM. Chunks of 512 rows (TestBenchAttention-style
	// sweep, same run): head_dim 128 (16/8 heads, 1,536 keys before) 0.960
	// ms at 16 KiB (15 keys a tile), 0.795 at 12 (11), 0.839 at 8 (7); head_dim
	// 256 (4/1 heads) 0.566 at 16 KiB (10 keys), 0.458 at 12 (7), 0.482 at 8
	// (5); 32 and 48 KiB ran twice as slow.
	prefillShared = 12 << 10
	// prefillMaxBC caps the keys per tile.
	prefillMaxBC = 32
)

// prefillInvocations per workgroup (rounded down to a multiple of the
// team), prefillMaxVPM, the vec4s of a query (and of its accumulator) one
// invocation keeps in registers, and prefillQPI, the queries it serves,
// are variables so the benchmark can compare block shapes on the GPU. On
// the H200 (TestBenchAttention's sweep of 9 shapes, same run) 128/8/1 was
// the fastest at head_dim 64, 128 and 256 alike: 1.7–2× faster than
// 128/8/2 (which won on lavapipe: fewer registers per query beat more
// reuse of each staged read there) and 2.3–2.9× faster than the row-wise
// kernel.
var (
	prefillInvocations = 128
	prefillMaxVPM      = 8
	prefillQPI         = 1
)

// prefillTiling is one head_dim's block shape: a team of TQ invocations
// per QPI queries, each holding VPM vec4s of them; WG invocations, so
// BR = WG/TQ*QPI queries, per workgroup; BC keys per staged tile.
type prefillTiling struct {
	HD4, TQ, VPM, QPI, BR, WG, BC int
}

func newPrefillTiling(headDim int) prefillTiling {
	hd4 := headDim / 4
	tq := 1
	for hd4%tq != 0 || hd4/tq > prefillMaxVPM {
		tq++
	}
	teams := max(1, prefillInvocations/tq)
	wg := teams * tq
	qpi := max(1, prefillQPI)
	// Workgroup memory: kv_sh BC×head_dim f32, part_sh BC×(WG·QPI+1) f32
	// and range_sh (16 bytes).
	bc := min(prefillMaxBC, (prefillShared-16)/(4*(headDim+wg*qpi+1)))
	return prefillTiling{HD4: hd4, TQ: tq, VPM: hd4 / tq, QPI: qpi, BR: teams * qpi, WG: wg, BC: bc}
}

// sharedBytes is the kernel's workgroup memory.
func (t prefillTiling) sharedBytes() int { return 4*t.BC*(4*t.HD4+t.WG*t.QPI+1) + 16 }

func (t prefillTiling) consts() map[string]string {
	c := map[string]string{}
	for name, v := range map[string]int{"HD4": t.HD4, "TQ": t.TQ, "VPM": t.VPM, "QPI": t.QPI, "BR": t.BR, "WG": t.WG, "BC": t.BC} {
		c[name] = fmt.Sprintf("%du", v)
	}
	return c
}

// attnPrefillParams is attention_prefill.wgsl's Params: groups =
// sequences × kv_heads × blocks workgroups, each times splits. SplitLen 0
// divides each block's own key range into splits equal parts (multiples
// of the tile).
type attnPrefillParams struct {
	T        uint32  `wgsl:"t"`
	Heads    uint32  `wgsl:"heads"`
	KVHeads  uint32  `wgsl:"kv_heads"`
	CacheLen uint32  `wgsl:"cache_len"`
	Window   uint32  `wgsl:"window"`
	Blocks   uint32  `wgsl:"blocks"`
	Groups   uint32  `wgsl:"groups"`
	Splits   uint32  `wgsl:"splits"`
	SplitLen uint32  `wgsl:"split_len"`
	PosOff   uint32  `wgsl:"pos_off"`
	SlotOff  uint32  `wgsl:"slot_off"`
	Scale    float32 `wgsl:"scale"`
	Softcap  float32 `wgsl:"softcap"`
	// Counted 1: workgroups whose split holds none of their block's keys
	// write nothing (attention_combine_rows.wgsl reads only the live
	// splits' records, their count stored in the first's).
	Counted uint32 `wgsl:"counted"`
}

// blockTiling is attention_block.wgsl's shape for one head_dim: blocks of
// BR queries, tiles of BC keys (a BC/4 × BR/4 grid of invocations, each
// with 4×4 scores), DK head_dim elements per staged Q/K step, VK keys per
// staged V step.
type blockTiling struct {
	HD4, BR, BC, DK, VK, WG int
}

// blockShapes are the block (= tile) sizes and head_dim steps the blocked
// kernel tries, fastest first where workgroup memory allows; a variable so
// the benchmark can compare them on the GPU. On an H100
// (TestBenchAttention, one run; single timings varied up to 30%) DK 32
// read as fast as DK 16 on most shapes and up to 1.7× faster on a few,
// 20–35% faster than DK 8; 64×64 blocks ran 30% to 2.1× faster than
// 32×32 ones (which fit WebGPU's guaranteed 16 KiB: lavapipe and
// SwiftShader take them).
var blockShapes = []struct{ size, dk int }{{64, 32}, {64, 16}, {32, 16}}

// newBlockTiling is the first blocked tiling of blockShapes for head_dim
// whose workgroup memory fits shared bytes: false when none does or
// head_dim does not split evenly over the tile's columns of invocations
// and the head_dim step.
func newBlockTiling(headDim int, shared uint64) (blockTiling, bool) {
	for _, sh := range blockShapes {
		bs, dk := sh.size, sh.dk
		if headDim%bs != 0 || headDim%dk != 0 || dk%4 != 0 || bs%4 != 0 || bs < 32 || bs > 64 {
			continue
		}
		// V rows are staged where the Q and K steps were, as many keys as
		// fit there (a divisor of the tile).
		vk := bs
		for vk > 1 && vk*headDim > dk*2*bs {
			vk /= 2
		}
		t := blockTiling{HD4: headDim / 4, BR: bs, BC: bs, DK: dk, VK: vk, WG: bs * bs / 16}
		if uint64(t.sharedBytes()) <= shared {
			return t, true
		}
	}
	return blockTiling{}, false
}

// sharedBytes is the kernel's workgroup memory: the staging area, p_sh,
// red_sh, range_sh.
func (t blockTiling) sharedBytes() int {
	stage := max(t.DK*(t.BR+t.BC), t.VK*4*t.HD4)
	return 4*(stage+t.BC*t.BR+t.BR*t.BC/4) + 16
}

func (t blockTiling) consts() map[string]string {
	c := map[string]string{}
	for name, v := range map[string]int{"HD4": t.HD4, "BR": t.BR, "BC": t.BC, "DK": t.DK, "VK": t.VK, "WG": t.WG} {
		c[name] = fmt.Sprintf("%du", v)
	}
	return c
}
