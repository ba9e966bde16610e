// genmix.c asks llama.cpp's own llama_model_quantize which type Q4_K_M gives
// every tensor of small synthetic models, and writes one line per tensor
// ("name type ne0 ne1 ne2") to mix_MODEL.txt. See gen.sh.
//
// Only a few entry points are declared here (libllama and libggml-base ship
// without headers); the quantize parameter struct is treated as an opaque
// buffer whose first two fields, nthread and ftype, have been stable in
// llama.h for years.
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ggml_context;
struct ggml_tensor;
struct gguf_context;
struct ggml_init_params { size_t mem_size; void *mem_buffer; bool no_alloc; };
struct gguf_init_params { bool no_alloc; struct ggml_context **ctx; };
struct ggml_context *ggml_init(struct ggml_init_params);
void ggml_free(struct ggml_context *);
struct ggml_tensor *ggml_new_tensor(struct ggml_context *, int type, int n_dims, const int64_t *ne);
struct ggml_tensor *ggml_set_name(struct ggml_tensor *, const char *);
float *ggml_get_data_f32(const struct ggml_tensor *);
int64_t ggml_nelements(const struct ggml_tensor *);
const char *ggml_type_name(int type);
struct gguf_context *gguf_init_empty(void);
struct gguf_context *gguf_init_from_file(const char *, struct gguf_init_params);
void gguf_free(struct gguf_context *);
void gguf_set_val_str(struct gguf_context *, const char *, const char *);
void gguf_set_val_u32(struct gguf_context *, const char *, uint32_t);
void gguf_set_val_f32(struct gguf_context *, const char *, float);
void gguf_add_tensor(struct gguf_context *, const struct ggml_tensor *);
bool gguf_write_to_file(const struct gguf_context *, const char *, bool only_meta);
int64_t gguf_get_n_tensors(const struct gguf_context *);
const char *gguf_get_tensor_name(const struct gguf_context *, int64_t);
int gguf_get_tensor_type(const struct gguf_context *, int64_t);
void llama_backend_init(void);
struct qparams { int32_t nthread; int32_t ftype; char rest[1024]; };
struct qparams llama_model_quantize_default_params(void);
uint32_t llama_model_quantize(const char *in, const char *out, const struct qparams *);

enum { F32 = 0, FTYPE_Q4_K_M = 15 };

struct model { const char *name; int hidden, layers, heads, kv_heads, ffn, vocab, experts; bool tied; };

static struct { char name[96]; int64_t ne[3]; int nd; } shapes[1024];
static int nshapes;

static void add(struct ggml_context *ctx, struct gguf_context *g, const char *name, int nd, int64_t a, int64_t b, int64_t c) {
    int64_t ne[3] = {a, b, c};
    struct ggml_tensor *t = ggml_new_tensor(ctx, F32, nd, ne);
    ggml_set_name(t, name);
    float *d = ggml_get_data_f32(t);
    for (int64_t i = 0; i < ggml_nelements(t); i++) d[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    gguf_add_tensor(g, t);
    snprintf(shapes[nshapes].name, sizeof shapes[0].name, "%s", name);
    memcpy(shapes[nshapes].ne, ne, sizeof ne);
    shapes[nshapes++].nd = nd;
}

static void run(struct model m) {
    nshapes = 0;
    struct ggml_context *ctx = ggml_init((struct ggml_init_params){(size_t)512 << 20, NULL, false});
    struct gguf_context *g = gguf_init_empty();
    int hd = m.hidden / m.heads;
    gguf_set_val_str(g, "general.architecture", "llama");
    gguf_set_val_u32(g, "llama.context_length", 256);
    gguf_set_val_u32(g, "llama.embedding_length", m.hidden);
    gguf_set_val_u32(g, "llama.block_count", m.layers);
    gguf_set_val_u32(g, "llama.feed_forward_length", m.ffn);
    gguf_set_val_u32(g, "llama.attention.head_count", m.heads);
    gguf_set_val_u32(g, "llama.attention.head_count_kv", m.kv_heads);
    gguf_set_val_f32(g, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    gguf_set_val_u32(g, "llama.rope.dimension_count", hd);
    gguf_set_val_u32(g, "llama.vocab_size", m.vocab);
    if (m.experts) {
        gguf_set_val_u32(g, "llama.expert_count", m.experts);
        gguf_set_val_u32(g, "llama.expert_used_count", 2);
    }
    gguf_set_val_u32(g, "general.file_type", 0);
    add(ctx, g, "token_embd.weight", 2, m.hidden, m.vocab, 1);
    add(ctx, g, "output_norm.weight", 1, m.hidden, 1, 1);
    if (!m.tied) add(ctx, g, "output.weight", 2, m.hidden, m.vocab, 1);
    char n[96];
    for (int l = 0; l < m.layers; l++) {
#define T(suffix, nd, a, b, c) snprintf(n, sizeof n, "blk.%d." suffix, l); add(ctx, g, n, nd, a, b, c)
        T("attn_norm.weight", 1, m.hidden, 1, 1);
        T("attn_q.weight", 2, m.hidden, m.hidden, 1);
        T("attn_k.weight", 2, m.hidden, hd * m.kv_heads, 1);
        T("attn_v.weight", 2, m.hidden, hd * m.kv_heads, 1);
        T("attn_output.weight", 2, m.hidden, m.hidden, 1);
        T("ffn_norm.weight", 1, m.hidden, 1, 1);
        if (m.experts) {
            T("ffn_gate_inp.weight", 2, m.hidden, m.experts, 1);
            T("ffn_gate_exps.weight", 3, m.hidden, m.ffn, m.experts);
            T("ffn_up_exps.weight", 3, m.hidden, m.ffn, m.experts);
            T("ffn_down_exps.weight", 3, m.ffn, m.hidden, m.experts);
        } else {
            T("ffn_gate.weight", 2, m.hidden, m.ffn, 1);
            T("ffn_up.weight", 2, m.hidden, m.ffn, 1);
            T("ffn_down.weight", 2, m.ffn, m.hidden, 1);
        }
    }
    char in[256], out[256];
    snprintf(in, sizeof in, "%s/in.gguf", getenv("TMPDIR"));
    snprintf(out, sizeof out, "%s/out.gguf", getenv("TMPDIR"));
    if (!gguf_write_to_file(g, in, false)) { fprintf(stderr, "cannot write %s\n", in); exit(1); }
    gguf_free(g);
    ggml_free(ctx);

    struct qparams p = llama_model_quantize_default_params();
    p.nthread = 1;
    p.ftype = FTYPE_Q4_K_M;
    if (llama_model_quantize(in, out, &p) != 0) { fprintf(stderr, "quantize failed for %s\n", m.name); exit(1); }

    struct ggml_context *octx = NULL;
    struct gguf_context *o = gguf_init_from_file(out, (struct gguf_init_params){true, &octx});
    if (!o) { fprintf(stderr, "cannot read %s\n", out); exit(1); }
    char path[128];
    snprintf(path, sizeof path, "mix_%s.txt", m.name);
    FILE *f = fopen(path, "w");
    fprintf(f, "# llama_model_quantize Q4_K_M: hidden %d layers %d heads %d/%d ffn %d vocab %d experts %d tied %d\n",
            m.hidden, m.layers, m.heads, m.kv_heads, m.ffn, m.vocab, m.experts, m.tied);
    for (int64_t i = 0; i < gguf_get_n_tensors(o); i++) {
        const char *name = gguf_get_tensor_name(o, i);
        for (int s = 0; s < nshapes; s++) {
            if (strcmp(shapes[s].name, name)) continue;
            fprintf(f, "%s %s", name, ggml_type_name(gguf_get_tensor_type(o, i)));
            for (int d = 0; d < shapes[s].nd; d++) fprintf(f, " %lld", (long long)shapes[s].ne[d]);
            fprintf(f, "\n");
        }
    }
    fclose(f);
    gguf_free(o);
    ggml_free(octx);
    remove(in);
    remove(out);
}

int main(void) {
    llama_backend_init();
    // Llama-like, separate output, K-quant-friendly widths, 16 layers.
    run((struct model){"llama16", 256, 16, 4, 2, 512, 512, 0, false});
    // Tied embeddings and a width that is not a multiple of 256 (like Gemma 3
    // 270M's 640): fallbacks to Q5_0/Q8_0/F16, 18 layers.
    run((struct model){"tied18", 320, 18, 5, 1, 480, 384, 0, true});
    // stories260K's shape: 64-wide rows and an FFN of 172 (not a multiple of
    // 32), so some tensors fall back all the way to F16.
    run((struct model){"small5", 64, 5, 8, 4, 172, 512, 0, false});
    // Mixtral-like: 8 experts, 32 layers.
    run((struct model){"moe8", 256, 32, 4, 2, 256, 256, 8, false});
    return 0;
}
