// gen.c writes golden files for engine/quant's tests from llama.cpp's own
// ggml-base library: a deterministic input (input.f32), and for each type
// the bytes llama.cpp's reference quantizer produces (TYPE.q) and the floats
// its dequantizer reads back from them (TYPE.deq). See gen.sh.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*quant_fn)(const float *x, void *y, int64_t k);
typedef void (*dequant_fn)(const void *x, float *y, int64_t k);

// Public symbols of libggml-base (ggml-quants.h, ggml.h).
#define DECL(T) void quantize_row_##T##_ref(const float *, void *, int64_t); \
                void dequantize_row_##T(const void *, float *, int64_t);
DECL(q4_0) DECL(q4_1) DECL(q5_0) DECL(q5_1) DECL(q8_0)
DECL(q2_K) DECL(q3_K) DECL(q4_K) DECL(q5_K) DECL(q6_K) DECL(q8_K)
void ggml_fp32_to_fp16_row(const float *x, uint16_t *y, int64_t n);
void ggml_fp32_to_bf16_row_ref(const float *x, uint16_t *y, int64_t n);

enum { SETS = 9, PER = 256, N = SETS * PER };

static uint64_t state = 0x9e3779b97f4a7c15ull;
static double uniform(void) { // xorshift64*, in (0, 1)
    state ^= state >> 12; state ^= state << 25; state ^= state >> 27;
    return ((state * 0x2545f4914f6cdd1dull) >> 11) * (1.0 / 9007199254740992.0) + 1e-300;
}
static double gauss(void) { return sqrt(-2 * log(uniform())) * cos(6.283185307179586 * uniform()); }

static void put(const char *name, const char *ext, const void *p, size_t n) {
    char path[256];
    snprintf(path, sizeof path, "%s.%s", name, ext);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f)) { perror(path); exit(1); }
}

int main(void) {
    static float x[N];
    for (int s = 0; s < SETS; s++) {
        float *v = x + s * PER;
        for (int i = 0; i < PER; i++) {
            switch (s) {
            case 0: v[i] = gauss(); break;                          // gaussian
            case 1: v[i] = 2 * uniform() - 1; break;                // uniform
            case 2: v[i] = 0; break;                                // zeros
            case 3: v[i] = 0.7f; break;                             // constant
            case 4: v[i] = i == 77 ? 100 : 0.01 * gauss(); break; // one outlier
            case 5: v[i] = -1 - uniform(); break;                   // negative only
            case 6: v[i] = 1e-4 * gauss(); break;                   // tiny
            case 7: v[i] = 3000 * gauss(); break;                   // huge
            case 8: v[i] = uniform() < 0.125 ? gauss() : 0; break;  // sparse
            }
        }
    }
    put("input", "f32", x, sizeof x);

    struct { const char *name; quant_fn q; dequant_fn dq; size_t block, size; } types[] = {
#define T(name, bs, ts) {#name, (quant_fn)quantize_row_##name##_ref, (dequant_fn)dequantize_row_##name, bs, ts}
        T(q4_0, 32, 18), T(q4_1, 32, 20), T(q5_0, 32, 22), T(q5_1, 32, 24), T(q8_0, 32, 34),
        T(q2_K, 256, 84), T(q3_K, 256, 110), T(q4_K, 256, 144), T(q5_K, 256, 176), T(q6_K, 256, 210),
        T(q8_K, 256, 292),
    };
    static float y[N];
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        size_t bytes = N / types[t].block * types[t].size;
        void *q = calloc(1, bytes);
        types[t].q(x, q, N);
        types[t].dq(q, y, N);
        put(types[t].name, "q", q, bytes);
        put(types[t].name, "deq", y, sizeof y);
        free(q);
    }
    static uint16_t h[N];
    ggml_fp32_to_fp16_row(x, h, N);
    put("f16", "q", h, sizeof h);
    ggml_fp32_to_bf16_row_ref(x, h, N);
    put("bf16", "q", h, sizeof h);
    return 0;
}
