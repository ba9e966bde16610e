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
//
// NW (a constant, 1 to 3; 1 with GLU) weights of one input run in one
// launch, each into its own output (a prompt chunk's q, k and v
// projections): P.n counts all their rows, weight 0's are [0, P.n1), weight
// 1's [P.n1, P.n2), weight 2's [P.n2, P.n) (W at binding 1, Y at 3; W2 at 4,
// Y2 at 5; W3 at 6, Y3 at 7; the Go side makes every weight but the last a
// whole number of tiles, so a tile reads one weight). Never split over k.

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

// tile_w is the weight that fetched column c of the tile at n0 reads: 0
// (W), 1 (W2, up with GLU) or 2 (W3).
fn tile_w(n0: u32, c: u32) -> u32 {
    if (GLU) {
        return select(0u, 1u, c >= TN / 2u);
    }
    if (NW > 2u && n0 >= P.n2) {
        return 2u;
    }
    if (NW > 1u && n0 >= P.n1) {
        return 1u;
    }
    return 0u;
}

// tile_first and tile_end bound weight w's outputs (NW weights).
fn tile_first(w: u32) -> u32 { return select(select(0u, P.n1, w == 1u), P.n2, w == 2u); }

fn tile_end(w: u32) -> u32 {
    if (w + 1u >= NW) {
        return P.n;
    }
    return select(P.n1, P.n2, w == 1u);
}

// tile_row is the row, in its weight (tile_w), of fetched column c of the
// tile at n0: within the weight when below tile_rows.
fn tile_row(n0: u32, c: u32) -> u32 {
    if (GLU) {
        return n0 / 2u + c % (TN / 2u);
    }
    return n0 + c - tile_first(tile_w(n0, 0u));
}

fn tile_rows(n0: u32) -> u32 {
    if (GLU) {
        return P.n / 2u;
    }
    let w = tile_w(n0, 0u);
    return tile_end(w) - tile_first(w);
}

// tile_base is the byte offset of row n of weight w.
fn tile_base(w: u32, n: u32) -> u32 { return select(select(P.wbase, P.wbase2, w == 1u), P.wbase3, w == 2u) + n * P.row_bytes; }

// store_y stores output n of weight w's row r (NW weights; store_y2 and
// store_y3 come from the Go side).
fn store_y(w: u32, r: u32, n: u32, v: ACT) {
    if (w == 1u) {
        store_y2(r * (tile_end(1u) - P.n1) + n, v);
    } else if (w == 2u) {
        store_y3(r * (P.n - P.n2) + n, v);
    } else {
        Y[r * P.ldy + P.yoff + n] = v;
    }
}

// Invocation (tx, ty) of the TN/NR × TM/MR owns the column
// quads tx + j·QN (j < NR/4) and the row quads ty + i·QM (i < MR/4). A run
// of 32 invocations (a subgroup on most GPUs) spans 8 tx by 4 ty, so each
// of its shared-memory reads touches at most 8 distinct vec4s: one
// 128-byte wavefront.
fn tile_tx(lid: u32) -> u32 { return (lid / 32u) % (QN / 8u) * 8u + lid % 8u; }

fn tile_ty(lid: u32) -> u32 { return (lid / 32u) / (QN / 8u) * 4u + (lid % 32u) / 8u; }

// tile_store writes the invocation's micro-tile of the output tile at
// (r0, n0), within the matmul's rows and outputs: to its weight's output,
// or as split split's partials.
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
    let w = tile_w(n0, 0u);
    let first = tile_first(w);
    let end = tile_end(w);
    for (var i = 0u; i < MR; i++) {
        let r = r0 + 4u * (ty + (i / 4u) * QM) + i % 4u;
        if (r < P.rows) {
            for (var j = 0u; j < NR; j++) {
                let n = n0 + 4u * (tx + (j / 4u) * QN) + j % 4u;
                if (n < end) {
                    let v = (*acc)[i * (NR / 4u) + j / 4u][j % 4u];
                    if (P.splits > 1u) {
                        Part[(split * P.rows + r) * P.n + n] = v;
                    } else {
                        store_y(w, r, n - first, ACT(v));
                    }
                }
            }
        }
    }
}
