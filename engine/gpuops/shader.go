package gpuops

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/doppler-engine/doppler/engine/dtype"
	"github.com/doppler-engine/doppler/kernels"
)

// shader describes how one pipeline's WGSL is assembled from kernels/:
// enables, the ACT alias of the activation type, the params struct generated
// from its Go definition, a workgroup reduction library (shared memory or
// subgroups) and, for kernels that read packed weights, the weight access
// file of the dtype (kernels/weight_<dtype>.wgsl, which declares binding 1).
type shader struct {
	kernel    string // kernels/ file name without .wgsl
	params    any    // zero value of the params struct (nil: none)
	prec      Precision
	subgroups bool // reductions through subgroup operations
	// sgMin is the device's smallest subgroup size (with subgroups): from
	// 32 on, run_sum and run_max reduce without a barrier.
	sgMin     int
	reduce    bool // include the reduction library
	weight    dtype.DType
	hasWeight bool
	consts    map[string]string // extra `const NAME = VALUE;` lines
	structs   map[string]any    // further uniform structs by WGSL name
	xdot      bool              // define XT and xdot (matmul.wgsl's X access)
	// more adds further weights of these dtypes: the first at binding 4,
	// read through W2, w2_*, k_scale_min2 and load_unit2, the second at
	// binding 6 through W3, ... (see renameWeight).
	more []dtype.DType
	unit int      // elements per weight unit; 0 = unitOf(weight)
	libs []string // kernels/ files of shared functions, before the kernel
	// pro runs a prologue in a decode GEMV that computes its activations
	// into workgroup memory in place of reading X (gemvPro).
	pro *gemvPro
	// q8 makes a decode GEMV read X as 8-bit activations
	// (kernels/quantize_q8.wgsl) through the weights' wdot*_q8 files.
	q8 bool
	// wint adds the weight's integer unit access, load_unit_i8
	// (kernels/wint_<type>.wgsl), after its weight file.
	wint bool
	// extra is WGSL of the Go side's own after the libs (generated helpers).
	extra string
}

// gemvPro is a decode GEMV's prologue, compile-time part: kernels/<kind>
// fills the activations (one row of n) into workgroup memory
// (kernels/gemv_xs.wgsl) from bindings of its own in place of X, and
// defines prologue(lid, workgroup), which the GEMV calls first.
// gemv_norm: the residual add and RMSNorm before the GEMV (mode 1 add +
// norm, 2 norm + add + norm; its bindings from binding on).
// gemv_combine: the decode attention's combine pass (staged split
// weights in workgroup memory; its partials at binding 2).
type gemvPro struct {
	kind          string
	n             int
	mode, binding int
	staged        int
}

// consts are the prologue's constants: XQ padded quads in workgroup
// memory, gemv_norm's NORM, NORM_B and NQ quads per invocation, and
// gemv_combine's CMAX staged split weights.
func (g gemvPro) consts() map[string]string {
	c := map[string]string{"XQ": fmt.Sprintf("%du", g.quads())}
	if g.kind == "gemv_norm" {
		c["NORM"], c["NORM_B"] = fmt.Sprintf("%du", g.mode), fmt.Sprintf("%du", g.binding)
		c["NQ"] = fmt.Sprintf("%du", (g.n/4+gemvWG-1)/gemvWG)
	}
	if g.kind == "gemv_combine" {
		c["CMAX"] = fmt.Sprintf("%du", g.staged)
	}
	return c
}

// quads is the length of the row in workgroup memory, in padded quads.
func (g gemvPro) quads() int { q := g.n / 4; return q + q/8 + 1 }

// gemvXDecl is the GEMV kernels' activation binding, which a prologue
// replaces, and gemvPrologue the place where it runs.
const (
	gemvXDecl    = "@group(0) @binding(2) var<storage, read> X: array<XT>;"
	gemvPrologue = "/*PROLOGUE*/"
)

// weightFiles maps the supported weight dtypes to their access files.
var weightFiles = map[dtype.DType]string{
	dtype.F32:  "weight_f32",
	dtype.F16:  "weight_fp16",
	dtype.BF16: "weight_bf16",
	dtype.Q8_0: "weight_q8_0",
	dtype.Q4_0: "weight_q4_0",
	dtype.Q5_0: "weight_q5_0",
	dtype.Q4_K: "weight_q4_k",
	dtype.Q5_K: "weight_q5_k",
	dtype.Q6_K: "weight_q6_k",
}

// wdotFiles hold wdot(row, u, p, xb): the dot product of weight unit u of
// the row at byte row with the activations at element xb, decoded word by
// word with no unit kept (the decode GEMVs' inner step). A block type's
// unit is 8 steps of four elements; WP invocations share it, part p taking
// steps p, p+WP, ... so that neighbouring invocations read neighbouring
// words and activations. Plain types are read in units of 4 (one step, WP
// 1); units of 1 (rows of odd length) get wdotGeneric.
var wdotFiles = map[dtype.DType]string{
	dtype.F32:  "wdot_f32",
	dtype.F16:  "wdot_fp16",
	dtype.BF16: "wdot_bf16",
	dtype.Q8_0: "wdot_q8_0",
	dtype.Q4_0: "wdot_q4_0",
	dtype.Q5_0: "wdot_q5_0",
	dtype.Q4_K: "wdot_q4_k",
	dtype.Q5_K: "wdot_q5_k",
	dtype.Q6_K: "wdot_q6_k",
}

// q8Types are the weight types with a wdot against 8-bit activations
// (kernels/wdot_<type>_q8.wgsl) and integer unit access for the integer
// tiled matmul (kernels/wint_<type>.wgsl).
var q8Types = map[dtype.DType]bool{
	dtype.Q8_0: true, dtype.Q4_0: true, dtype.Q5_0: true, dtype.Q4_K: true, dtype.Q5_K: true, dtype.Q6_K: true,
}

const wdotGeneric = `
fn wdot(row: u32, u: u32, p: u32, xb: u32) -> f32 {
    if (p != 0u) { return 0.0; }
    var w: array<f32, UNIT>;
    load_unit(row, u, &w);
    return xdot(xb, &w);
}
`

// weightLibs are WGSL files a weight file needs before it (shared decoding).
var weightLibs = map[dtype.DType][]string{
	dtype.Q4_K: {"weight_kscale"},
	dtype.Q5_K: {"weight_kscale"},
}

// WeightSupported reports whether kernels read weights of dtype t directly.
func WeightSupported(t dtype.DType) bool { _, ok := weightFiles[t]; return ok }

// unitOf is the number of elements a weight file's load_unit decodes by
// default: 32 for block types (K-quant sub-blocks), 1 for plain float types.
func unitOf(t dtype.DType) int {
	if t.Quantized() {
		return 32
	}
	return 1
}

// matmulUnit is the unit the matmul kernels use for rows of in elements:
// plain types read 4 elements at a time when rows allow it.
func matmulUnit(t dtype.DType, in int) int {
	if !t.Quantized() && in%4 == 0 {
		return 4
	}
	return unitOf(t)
}

const reduceShared = `
var<workgroup> wg_red: array<f32, WG>;

// wg_sum returns the sum of v over the workgroup to every invocation.
fn wg_sum(lid: u32, v: f32) -> f32 {
    wg_red[lid] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        if (lid < s) { wg_red[lid] = wg_red[lid] + wg_red[lid + s]; }
        workgroupBarrier();
    }
    let r = wg_red[0];
    workgroupBarrier();
    return r;
}

var<workgroup> rg_red: array<vec4<f32>, WG>;

// rg_sum4 sums v over the RS invocations of lid's row group (lid / RS, RS a
// power of two); the group's first invocation gets the total. Every
// invocation must call it.
fn rg_sum4(lid: u32, v: vec4<f32>) -> vec4<f32> {
    rg_red[lid] = v;
    workgroupBarrier();
    for (var s = RS / 2u; s > 0u; s = s / 2u) {
        if ((lid & (RS - 1u)) < s) { rg_red[lid] = rg_red[lid] + rg_red[lid + s]; }
        workgroupBarrier();
    }
    return rg_red[lid];
}

// rg_sum1 is rg_sum4 for one value.
fn rg_sum1(lid: u32, v: f32) -> f32 {
    wg_red[lid] = v;
    workgroupBarrier();
    for (var s = RS / 2u; s > 0u; s = s / 2u) {
        if ((lid & (RS - 1u)) < s) { wg_red[lid] = wg_red[lid] + wg_red[lid + s]; }
        workgroupBarrier();
    }
    let r = wg_red[lid];
    workgroupBarrier();
    return r;
}

// wg_max returns the maximum of v over the workgroup to every invocation.
fn wg_max(lid: u32, v: f32) -> f32 {
    wg_red[lid] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        if (lid < s) { wg_red[lid] = max(wg_red[lid], wg_red[lid + s]); }
        workgroupBarrier();
    }
    let r = wg_red[0];
    workgroupBarrier();
    return r;
}
`

// reduceSubgroup reduces within subgroups first, then across them through
// shared memory. Subgroups of a 1D workgroup are taken to be consecutive
// runs of local_invocation_index, as on every implementation we run on
// (tests compare with the shared-memory path).
const reduceSubgroup = `
var<workgroup> wg_red: array<f32, WG>;
var<private> sg_size: u32;
var<private> sg_lane: u32;

fn wg_sum(lid: u32, v: f32) -> f32 {
    let s = subgroupAdd(v);
    if (sg_lane == 0u) { wg_red[lid / sg_size] = s; }
    workgroupBarrier();
    var t = 0.0;
    let n = (WG + sg_size - 1u) / sg_size;
    for (var i = 0u; i < n; i++) { t += wg_red[i]; }
    workgroupBarrier();
    return t;
}

var<workgroup> rg_red: array<vec4<f32>, WG>;

// rg_sum4: subgroups of RS reduce at once, wider ones by a butterfly that
// stays within aligned runs of RS, narrower ones leave one partial per
// subgroup for the group's first invocation to add up.
fn rg_sum4(lid: u32, v: vec4<f32>) -> vec4<f32> {
    var t = v;
    if (sg_size == RS) {
        t = subgroupAdd(v);
    } else if (sg_size > RS) {
        for (var o = RS / 2u; o > 0u; o = o / 2u) { t += subgroupShuffleXor(t, o); }
    } else {
        t = subgroupAdd(v);
        if (sg_lane == 0u) { rg_red[lid / sg_size] = t; }
    }
    workgroupBarrier();
    if (sg_size < RS) {
        let per = RS / sg_size;
        let first = (lid / RS) * per;
        t = vec4<f32>(0.0);
        for (var i = 0u; i < per; i++) { t += rg_red[first + i]; }
    }
    // The partials are read by other invocations: a second call must not
    // overwrite them before every one has.
    workgroupBarrier();
    return t;
}

fn rg_sum1(lid: u32, v: f32) -> f32 {
    var t = v;
    if (sg_size == RS) {
        t = subgroupAdd(v);
    } else if (sg_size > RS) {
        for (var o = RS / 2u; o > 0u; o = o / 2u) { t += subgroupShuffleXor(t, o); }
    } else {
        t = subgroupAdd(v);
        if (sg_lane == 0u) { wg_red[lid / sg_size] = t; }
    }
    workgroupBarrier();
    if (sg_size < RS) {
        let per = RS / sg_size;
        let first = (lid / RS) * per;
        t = 0.0;
        for (var i = 0u; i < per; i++) { t += wg_red[first + i]; }
    }
    workgroupBarrier();
    return t;
}

fn wg_max(lid: u32, v: f32) -> f32 {
    let s = subgroupMax(v);
    if (sg_lane == 0u) { wg_red[lid / sg_size] = s; }
    workgroupBarrier();
    var t = wg_red[0];
    let n = (WG + sg_size - 1u) / sg_size;
    for (var i = 1u; i < n; i++) { t = max(t, wg_red[i]); }
    workgroupBarrier();
    return t;
}
`

// runsShared reduces over aligned runs of W invocations (a power of two
// up to 32) through wg_red, a tree of barriers; every invocation must call
// them. runsSubgroup's run_* use them with subgroups narrower than 32, and
// shuffles, without a barrier, where every subgroup is at least 32 wide
// (SG_MIN, a constant, so the branch is uniform).
const runsShared = `
fn run_sum_sh(lid: u32, v: f32, w: u32) -> f32 {
    wg_red[lid] = v;
    workgroupBarrier();
    for (var s = w / 2u; s > 0u; s = s / 2u) {
        if ((lid & (w - 1u)) < s) { wg_red[lid] = wg_red[lid] + wg_red[lid + s]; }
        workgroupBarrier();
    }
    let r = wg_red[lid & ~(w - 1u)];
    workgroupBarrier();
    return r;
}

fn run_max_sh(lid: u32, v: f32) -> f32 {
    wg_red[lid] = v;
    workgroupBarrier();
    for (var s = 16u; s > 0u; s = s / 2u) {
        if ((lid & 31u) < s) { wg_red[lid] = max(wg_red[lid], wg_red[lid + s]); }
        workgroupBarrier();
    }
    let r = wg_red[lid & ~31u];
    workgroupBarrier();
    return r;
}
`

const runsSubgroup = `
// run_sum returns v summed over the aligned run of W invocations holding
// lid (W a power of two up to 32), to each of them; run_max the maximum over
// a run of 32.
fn run_sum(lid: u32, v: f32, w: u32) -> f32 {
    if (SG_MIN >= 32u) {
        var t = v;
        for (var o = w / 2u; o > 0u; o = o / 2u) { t += subgroupShuffleXor(t, o); }
        return t;
    }
    return run_sum_sh(lid, v, w);
}

fn run_max(lid: u32, v: f32) -> f32 {
    if (SG_MIN >= 32u) {
        var t = v;
        for (var o = 16u; o > 0u; o = o / 2u) { t = max(t, subgroupShuffleXor(t, o)); }
        return t;
    }
    return run_max_sh(lid, v);
}
`

// runsNoSubgroup names the shared-memory runs as run_sum and run_max.
const runsNoSubgroup = `
fn run_sum(lid: u32, v: f32, w: u32) -> f32 { return run_sum_sh(lid, v, w); }
fn run_max(lid: u32, v: f32) -> f32 { return run_max_sh(lid, v); }
`

// reduceRows is for either reduction library: rg_sumr sums a GEMV's
// per-row accumulators over the row group, TR activation rows in the lanes
// of a vec4, reduced as one value when TR is 1 (decode: a quarter of the
// shuffles).
const reduceRows = `
fn rg_sumr(lid: u32, v: vec4<f32>) -> vec4<f32> {
    if (TR == 1u) {
        return vec4<f32>(rg_sum1(lid, v.x), 0.0, 0.0, 0.0);
    }
    return rg_sum4(lid, v);
}
`

// weightHelpers read the packed weight buffer W (declared by the weight
// file) at byte offsets through w_word (word i; see wordAccess); block types
// have even block sizes, so 16-bit reads never straddle a word.
const weightHelpers = `
fn w_u8(off: u32) -> u32 { return (w_word(off >> 2u) >> ((off & 3u) * 8u)) & 0xffu; }
fn w_u16(off: u32) -> u32 { return (w_word(off >> 2u) >> ((off & 2u) * 8u)) & 0xffffu; }
fn w_f16(off: u32) -> f32 { return unpack2x16float(w_u16(off)).x; }
// w_u32 reads 4 bytes at an even offset: branch-free, as neighbouring
// invocations decode blocks of different alignment (Q8_0, Q6_K).
fn w_u32(off: u32) -> u32 {
    let i = off >> 2u;
    let sh = (off & 2u) * 8u;
    return w_funnel(w_word(i), w_word(i + (sh >> 4u)), sh);
}
// w_funnel is the word sh bits (0 or 16) into the pair lo, hi.
fn w_funnel(lo: u32, hi: u32, sh: u32) -> u32 { return select((lo >> sh) | (hi << (32u - sh)), lo, sh == 0u); }
// w_u32x4 reads the 4 words of bytes off .. off + 15 (off even): 5 word
// loads and a funnel shift, as w_u32x8 below.
fn w_u32x4(off: u32, q: ptr<function, array<u32, 4>>) {
    let i = off >> 2u;
    let sh = (off & 2u) * 8u;
    var w: array<u32, 5>;
    for (var j = 0u; j < 5u; j++) {
        w[j] = w_word(i + j);
    }
    for (var j = 0u; j < 4u; j++) {
        (*q)[j] = w_funnel(w[j], w[j + 1u], sh);
    }
}
// w_u32x8 reads the 8 words of bytes off .. off + 31 (off even): 9 word
// loads and a funnel shift, where w_u32 word by word loads 16. The 9th is
// past the span when off is 4-aligned: unused, and in bounds or clamped.
fn w_u32x8(off: u32, q: ptr<function, array<u32, 8>>) {
    let i = off >> 2u;
    let sh = (off & 2u) * 8u;
    var w: array<u32, 9>;
    for (var j = 0u; j < 9u; j++) {
        w[j] = w_word(i + j);
    }
    for (var j = 0u; j < 8u; j++) {
        (*q)[j] = w_funnel(w[j], w[j + 1u], sh);
    }
}
`

// moreBindings are the bindings of the weights after the first.
var moreBindings = []int{4, 6}

// renameWeight renames a weight file's buffer, binding and functions so a
// kernel can read several weights: W at binding 1 and, for suffix "2", W2
// at binding 4 (moreBindings).
func renameWeight(src, suffix string, binding int) string {
	src = strings.ReplaceAll(src, "@binding(1) var<storage, read> W:", fmt.Sprintf("@binding(%d) var<storage, read> W%s:", binding, suffix))
	src = wgslIdent.ReplaceAllStringFunc(src, func(id string) string {
		switch {
		case id == "W":
			return "W" + suffix
		case strings.HasPrefix(id, "w_"):
			return "w" + suffix + "_" + id[2:]
		case id == "load_unit", id == "load_unit_i8", id == "k_scale_min", id == "k_unit_scales", id == "wdot", id == "spread4",
			id == "UNIT_HALVES", id == "UNIT_OFFSET":
			return id + suffix
		}
		return id
	})
	return src
}

var wgslIdent = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)

// xdotVec dots a decoded unit with activations at element xb (a multiple of
// 4) through xv4 (xvGlobal, or a fused norm's workgroup copy); xdotScalar
// is the plain-type version (UNIT 1, any K).
const xdotVec = `
fn xdot(xb: u32, w: ptr<function, array<f32, UNIT>>) -> f32 {
    var s = 0.0;
    for (var i = 0u; i < UNIT / 4u; i++) {
        s += dot(xv4(xb + 4u * i), vec4<f32>((*w)[4u * i], (*w)[4u * i + 1u], (*w)[4u * i + 2u], (*w)[4u * i + 3u]));
    }
    return s;
}
// ubytes is the four bytes of v as floats, lowest first, less o. Each byte
// becomes the low mantissa of 2^23 (the float 2^23 + b) and the bias goes in
// one subtract, exact for bytes and small o: a bit op and a full-rate add
// where an int→float conversion runs at a quarter of the FMA rate (no
// GEMV on the H100 ran measurably faster for it: they are bound elsewhere).
fn ubytes(v: u32, o: f32) -> vec4<f32> {
    let b = (vec4<u32>(v) >> vec4<u32>(0u, 8u, 16u, 24u)) & vec4<u32>(0xffu);
    return bitcast<vec4<f32>>(b | vec4<u32>(0x4b000000u)) - (8388608.0 + o);
}
`

// xvQ8 reads X as quantize_q8.wgsl lays out a row of P.k: xq(i) is word i
// of four int8, xq_d(e) and xq_xsum(e) the scale and Σ x of element e's
// block of 32, xq_sum16(e) the Σ q of its 16 (e a multiple of 16).
const xvQ8 = `
alias XT = u32;
fn xq(i: u32) -> u32 { return X[i]; }
fn xq_d(e: u32) -> f32 { return bitcast<f32>(X[P.k / 4u + 2u * (e >> 5u)]); }
fn xq_xsum(e: u32) -> f32 { return bitcast<f32>(X[P.k / 4u + 2u * (e >> 5u) + 1u]); }
fn xq_sum16(e: u32) -> i32 { return bitcast<i32>(X[P.k / 4u + P.k / 16u + (e >> 4u)]); }
fn xq_sum32(e: u32) -> i32 { return xq_sum16(e) + xq_sum16(e + 16u); }
`

// xvGlobal reads the activations from X.
const xvGlobal = `
alias XT = ACT4;
// xv4 reads the activations at elements e..e+3 (e a multiple of 4).
fn xv4(e: u32) -> vec4<f32> { return vec4<f32>(X[e >> 2u]); }
`

const xdotScalar = `
alias XT = ACT;
fn xdot(xb: u32, w: ptr<function, array<f32, UNIT>>) -> f32 {
    var s = 0.0;
    for (var i = 0u; i < UNIT; i++) {
        s += (*w)[i] * f32(X[xb + i]);
    }
    return s;
}
`

// vec4Weights are the types whose weight files declare W as 16-byte vectors
// (their super-blocks are multiples of 16 bytes; rows must start 16-byte
// aligned, see weightAlign): a load brings four words.
var vec4Weights = map[dtype.DType]bool{dtype.Q4_K: true, dtype.Q5_K: true}

// wordAccess defines w_word for a weight file's W.
func wordAccess(t dtype.DType) string {
	if vec4Weights[t] {
		return "fn w_word(i: u32) -> u32 { return W[i >> 2u][i & 3u]; }\n"
	}
	return "fn w_word(i: u32) -> u32 { return W[i]; }\n"
}

// weightSource is the WGSL that reads weights of dtype t through W,
// load_unit and the w_* helpers.
func weightSource(t dtype.DType) (string, error) {
	name, ok := weightFiles[t]
	if !ok {
		return "", fmt.Errorf("gpuops: no kernel reads %v weights", t)
	}
	src := weightHelpers + wordAccess(t)
	for _, lib := range append(weightLibs[t], name) {
		w, err := kernels.Source(lib)
		if err != nil {
			return "", err
		}
		src += w
	}
	return src, nil
}

// weightUnit is the elements per weight unit the kernel reads.
func (s shader) weightUnit() int {
	if s.unit == 0 {
		return unitOf(s.weight)
	}
	return s.unit
}

// source assembles the WGSL text.
func (s shader) source() (string, error) {
	body, err := kernels.Source(s.kernel)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	useSG := s.reduce && s.subgroups
	if s.prec == F16 {
		b.WriteString("enable f16;\n")
	}
	if useSG {
		b.WriteString("enable subgroups;\ndiagnostic(off, subgroup_uniformity);\n")
	}
	fmt.Fprintf(&b, "alias ACT = %s;\nalias ACT2 = vec2<ACT>;\nalias ACT4 = vec4<ACT>;\n", s.prec.wgslType())
	consts := map[string]string{}
	maps.Copy(consts, s.consts)
	if s.pro != nil {
		maps.Copy(consts, s.pro.consts())
	}
	for _, name := range slices.Sorted(maps.Keys(consts)) {
		fmt.Fprintf(&b, "const %s = %s;\n", name, consts[name])
	}
	if s.params != nil {
		st, err := WGSLStruct("Params", s.params)
		if err != nil {
			return "", err
		}
		b.WriteString(st)
	}
	snames := make([]string, 0, len(s.structs))
	for name := range s.structs {
		snames = append(snames, name)
	}
	sort.Strings(snames)
	for _, name := range snames {
		st, err := WGSLStruct(name, s.structs[name])
		if err != nil {
			return "", err
		}
		b.WriteString(st)
	}
	if s.reduce {
		if _, ok := s.consts["RS"]; !ok {
			b.WriteString("const RS: u32 = 32u;\n") // rg_sum4's group size
		}
		if _, ok := s.consts["TR"]; !ok {
			b.WriteString("const TR: u32 = 4u;\n") // rg_sumr's activation rows
		}
		if useSG {
			fmt.Fprintf(&b, "const SG_MIN: u32 = %du;\n", s.sgMin)
			b.WriteString(reduceSubgroup + runsSubgroup)
		} else {
			b.WriteString(reduceShared + runsNoSubgroup)
		}
		b.WriteString(reduceRows + runsShared)
	}
	if s.hasWeight {
		unit := s.weightUnit()
		fmt.Fprintf(&b, "const UNIT: u32 = %du;\n", unit)
		if _, ok := s.consts["WP"]; !ok && s.xdot {
			b.WriteString("const WP: u32 = 1u;\n") // wdot's invocations per unit
		}
		if len(s.more) > len(moreBindings) {
			return "", fmt.Errorf("gpuops: a kernel reads at most %d weights", len(moreBindings)+1)
		}
		for i, t := range append([]dtype.DType{s.weight}, s.more...) {
			src, err := weightSource(t)
			if err != nil {
				return "", err
			}
			if s.xdot {
				wd := wdotGeneric
				if s.q8 {
					if wd, err = kernels.Source(wdotFiles[t] + "_q8"); err != nil {
						return "", err
					}
				} else if name, ok := wdotFiles[t]; ok && unit%4 == 0 {
					if wd, err = kernels.Source(name); err != nil {
						return "", err
					}
				}
				src += wd
			}
			if s.wint {
				name, ok := wdotFiles[t]
				if !ok || !q8Types[t] {
					return "", fmt.Errorf("gpuops: no integer access to %v weights", t)
				}
				wi, err := kernels.Source("wint_" + strings.TrimPrefix(name, "wdot_"))
				if err != nil {
					return "", err
				}
				src += wi
			}
			if i > 0 {
				src = renameWeight(src, fmt.Sprint(i+1), moreBindings[i-1])
			}
			b.WriteString(src)
		}
		if s.xdot {
			switch {
			case s.q8:
				b.WriteString(xvQ8)
			case unit%4 != 0:
				b.WriteString(xdotScalar)
			case s.pro != nil:
				b.WriteString(xdotVec) // xv4 from gemv_xs.wgsl
			default:
				b.WriteString(xdotVec + xvGlobal)
			}
		}
	}
	sgParams, sgInit := "", ""
	if useSG {
		sgParams = ", @builtin(subgroup_size) sgs_: u32, @builtin(subgroup_invocation_id) sgi_: u32"
		sgInit = "sg_size = sgs_; sg_lane = sgi_;"
	}
	for _, lib := range s.libs {
		src, err := kernels.Source(lib)
		if err != nil {
			return "", err
		}
		b.WriteString(src)
	}
	b.WriteString(s.extra)
	body = strings.ReplaceAll(body, "/*SG_PARAMS*/", sgParams)
	body = strings.ReplaceAll(body, "/*SG_INIT*/", sgInit)
	prologue := ""
	if s.pro != nil {
		if !strings.Contains(body, gemvXDecl) || !strings.Contains(body, gemvPrologue) || s.weightUnit()%4 != 0 {
			return "", fmt.Errorf("gpuops: %s cannot run the prologue %s", s.kernel, s.pro.kind)
		}
		xs, err := kernels.Source("gemv_xs")
		if err != nil {
			return "", err
		}
		src, err := kernels.Source(s.pro.kind)
		if err != nil {
			return "", err
		}
		body = strings.Replace(body, gemvXDecl, xs+src, 1)
		prologue = "prologue(lid, wid.x + wid.y * nwg.x);"
	}
	body = strings.ReplaceAll(body, gemvPrologue, prologue)
	b.WriteString(body)
	return b.String(), nil
}
