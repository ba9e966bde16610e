// Shared by the tiled matmuls (matmul_tiled.wgsl, matmul_tiled_q8.wgsl),
// which define TM, TN, MR, NR, QN = TN/NR, QM = TM/MR, Y, Part and P: a
// workgroup's tile, an invocation's place in it, the weight row of each of
// its columns and the store of its micro-tile.
//
// GLU (a constant from the Go side) runs a gated feed-forward's gate and up
// projections in one launch and stores glu_act(gate)·up (glu_act.wgsl): P.n counts both (twice
// the outputs), and a tile at n0 holds the gate and up rows of outputs
// n0/2 .. n0/2 + TN/2 - 1. A tile's fetched columns c < TN/2 are gate rows,
// the others up rows (32 neighbouring invocations fetch from one weight);
// tile_col stages them so that each quad of columns holds [gate o,
// gate o+1, up o, up o+1]: one invocation accumulates both halves of two
// outputs.

// TileAt is what one workgroup computes: split split of the k steps (k in
// [kb, ke), a whole number of steps) of the output tile whose rows start
// at r0 and outputs at n0.
struct TileAt {
    split: u32,
    r0: u32,
    n0: u32,
    kb: u32,
    ke: u32,
}

// tile_at places workgroup g: split g % P.splits of tile g / P.splits, the
// tiles row-major over the outputs. r0 ≥ P.rows for surplus workgroups.
fn tile_at(g: u32) -> TileAt {
    let split = g % P.splits;
    let tile = g / P.splits;
    let ntiles = (P.n + TN - 1u) / TN;
    let kb = split * P.kslice;
    return TileAt(split, (tile / ntiles) * TM, (tile % ntiles) * TN, kb, min(P.k, kb + P.kslice));
}

// tile_col is the staged column of fetched column c.
fn tile_col(c: u32) -> u32 {
    if (!GLU) {
        return c;
    }
    let o = c % (TN / 2u);
    return 4u * (o / 2u) + o % 2u + 2u * (c / (TN / 2u));
}

// tile_up reports whether fetched column c reads the second weight (W2, up).
fn tile_up(c: u32) -> bool { return GLU && c >= TN / 2u; }

// tile_row is the weight row of fetched column c of the tile at n0, within
// the weight when below tile_rows.
fn tile_row(n0: u32, c: u32) -> u32 {
    if (GLU) {
        return n0 / 2u + c % (TN / 2u);
    }
    return n0 + c;
}

fn tile_rows() -> u32 { return select(P.n, P.n / 2u, GLU); }

// tile_base is the byte offset of weight row n of fetched column c.
fn tile_base(c: u32, n: u32) -> u32 { return select(P.wbase, P.wbase2, tile_up(c)) + n * P.row_bytes; }

// Invocation (tx, ty) of the TN/NR × TM/MR owns the column
// quads tx + j·QN (j < NR/4) and the row quads ty + i·QM (i < MR/4). A run
// of 32 invocations (a subgroup on most GPUs) spans 8 tx by 4 ty, so each
// of its shared-memory reads touches at most 8 distinct vec4s: one
// 128-byte wavefront.
fn tile_tx(lid: u32) -> u32 { return (lid / 32u) % (QN / 8u) * 8u + lid % 8u; }

fn tile_ty(lid: u32) -> u32 { return (lid / 32u) / (QN / 8u) * 4u + (lid % 32u) / 8u; }

// tile_store writes the invocation's micro-tile of the output tile at
// (r0, n0), within the matmul's rows and outputs: to Y, or as split
// split's partials.
fn tile_store(split: u32, r0: u32, n0: u32, tx: u32, ty: u32, acc: ptr<function, array<vec4<f32>, MR * NR / 4u>>) {
    if (GLU) {
        // Each quad of columns: two outputs' gate and up, each rounded to
        // the activation type first as separate matmuls would store them.
        for (var i = 0u; i < MR; i++) {
            let r = r0 + 4u * (ty + (i / 4u) * QM) + i % 4u;
            for (var j = 0u; j < NR / 4u; j++) {
                let v = (*acc)[i * (NR / 4u) + j];
                for (var e = 0u; e < 2u; e++) {
                    let o = n0 / 2u + 2u * (tx + j * QN) + e;
                    if (r < P.rows && o < P.n / 2u) {
                        Y[r * P.ldy + P.yoff + o] = ACT(glu_act(f32(ACT(v[e]))) * f32(ACT(v[e + 2u])));
                    }
                }
            }
        }
        return;
    }
    for (var i = 0u; i < MR; i++) {
        let r = r0 + 4u * (ty + (i / 4u) * QM) + i % 4u;
        if (r < P.rows) {
            for (var j = 0u; j < NR; j++) {
                let n = n0 + 4u * (tx + (j / 4u) * QN) + j % 4u;
                if (n < P.n) {
                    let v = (*acc)[i * (NR / 4u) + j / 4u][j % 4u];
                    if (P.splits > 1u) {
                        Part[(split * P.rows + r) * P.n + n] = v;
                    } else {
                        Y[r * P.ldy + P.yoff + n] = ACT(v);
                    }
                }
            }
        }
    }
}
