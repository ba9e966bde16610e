package gpuops

// gemvRowsPerGroup is how many weight rows each 32-invocation group of the
// decode GEMV (kernels/matmul.wgsl) owns, reading its activation unit once
// for all of them. On the H200 (Q4_K/Q5_0/Q8_0 models, same run) 1 beat 2
// by 0–15% and 4 by 16–26% in decode tok/s: more workgroups in flight win
// over fewer activation loads.
const gemvRowsPerGroup = 1

// gemvUnroll is how many units each invocation of the decode GEMV loads
// before using any. More loads in flight per invocation lost on the H200
// (2: −5 to −10%, 4: −4 to −22% decode tok/s, same run): the registers they take
// cost more resident workgroups than they gain.
const gemvUnroll = 1
