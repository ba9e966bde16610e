// Package quant reads and writes tensor data in llama.cpp's (ggml's) exact
// byte layouts: F32, F16, BF16 and the block-quantized types Q4_0, Q4_1,
// Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K and Q8_K.
//
// Dequantize mirrors ggml-quants.c's dequantize_row_* bit for bit: every
// element is computed with the same float32 operations in the same order.
// Quantize follows llama.cpp's reference quantizers (quantize_row_*_ref, the
// ones llama-quantize uses without an importance matrix), including their
// weighted searches for K-quant scales and mins, and writes the same bytes.
// Both are checked against output of llama.cpp's own library
// (testdata/llamacpp). Go may fuse x*y+z into one FMA on some CPUs; every
// such product is wrapped in float32() so results are identical everywhere.
//
// Dot multiplies one encoded row by a float32 vector without allocating, with
// the same result as Dequantize followed by a sequential dot product.
// MixType and ChooseType pick each tensor's type for a conversion target the
// way llama-quantize does (Q4_K_M's Q6_K layers, shape fallbacks).
//
// All code is pure Go and builds for js/wasm.
package quant
