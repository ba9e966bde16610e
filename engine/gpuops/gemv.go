package gpuops

// gemvRowsPerGroup is how many weight rows each 32-invocation group of the
// decode GEMV (kernels/matmul.wgsl) owns, reading its activation unit once
// for all of them. On the H200 (Q4_K/Q5_0/Q8_0 models, same run) 1 beat 2
// by 0–18% and 4 by 3–35% in decode tok/s: more workgroups in flight win
// over fewer activation loads.
const gemvRowsPerGroup = 1
