/* Linear scores of a token list over word 1-2-gram + char n-gram TF-IDF features, in C.
 *
 * The same computation as classifier.features.FeatureIndex.counts + tfidf_values + the dot
 * product in classifier.model.CategoryModel.decision_tokens, without a numpy call per step:
 * n-gram keys are built exactly as FeatureIndex builds them, found in an open-addressing hash
 * table (one probe or two instead of a binary search), counted per feature,
 * then weighted by sublinear tf x idf, l2-normalised per block (word | char) and multiplied into
 * the coefficient rows. The caller holds the GIL for the whole call, which also protects the
 * per-object scratch buffers.
 *
 * With set_knn, the same call also scores the ticket's nearest training tickets: the TF-IDF
 * values are multiplied into per-feature postings (training ticket, value), the similarity of
 * every training ticket touched is summed, and for each class the sums of its top k
 * similarities (for each k asked for) are written out, as classifier.knn does with numpy.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* A hash table cell: key and its slot side by side, so a probe touches one cache line. */
typedef struct {
    uint64_t key; /* 0 = empty */
    int64_t slot;
} Cell;

/* One posting: a training ticket and its TF-IDF value, side by side so a slot's postings
 * are one stream in memory. */
typedef struct {
    uint32_t doc;
    float val;
} Posting;

/* Nearest-ticket postings by slot (CSR), the tickets' classes, and per-call scratch. */
typedef struct {
    int64_t *indptr;     /* n_slots + 1 */
    Posting *postings;
    uint8_t *doc_class;  /* n_docs */
    Py_ssize_t n_docs, n_classes;
    int32_t *ks;         /* ascending */
    int n_ks, kmax;
    double *acc;         /* n_docs: similarity of each training ticket in this call */
    double *top;         /* n_classes x kmax, descending */
    double *floor;       /* n_classes: the value a ticket must beat to enter top */
    int32_t *top_n;      /* n_classes */
} Knn;

/* Per-slot bookkeeping of one call: which call saw the slot last, and where it was listed. */
typedef struct {
    uint32_t call;
    int32_t where;
} Seen;

typedef struct {
    PyObject_HEAD
    PyObject *tok_ids;  /* dict str -> int (token id, >= 1) */
    uint32_t *char_code; /* code point -> character id, 0 when unknown */
    Py_UCS4 n_char_code;
    int lo, hi, tok_bits, char_bits, tag_shift, tag_uni, tag_bi;
    Cell *table;         /* open addressing, at most half full */
    uint64_t ht_mask;
    int ht_shift;
    float *rows;         /* n_slots x (1 + n_out): idf, then one coefficient per output */
    uint8_t *is_word;    /* n_slots: 1 for a word-block feature */
    Py_ssize_t n_slots, n_out;
    Seen *seen;          /* n_slots */
    uint32_t call;
    uint64_t *keys;      /* scratch: this call's n-gram keys */
    int32_t *slots;      /* scratch: slot of each key, -1 when not a feature */
    double *vals;        /* scratch: tf-idf value of each distinct slot hit */
    int32_t *hits;       /* scratch: distinct slots hit */
    int32_t *counts;     /* scratch: count of each distinct slot */
    Py_ssize_t cap;
    uint32_t *codes;     /* scratch: character ids of the joined text */
    Py_ssize_t codes_cap;
    Knn knn;             /* kNN postings in slot order (set_knn); knn.indptr NULL if none */
} Scorer;

/* Multiplicative hash of a 64-bit key into the table. */
static inline uint64_t
hash_key(const Scorer *s, uint64_t key)
{
    return (key * 0x9E3779B97F4A7C15ULL) >> s->ht_shift;
}

/* Slot of key, or -1 when it is not a feature. */
static inline int32_t
find_slot(const Scorer *s, uint64_t key)
{
    uint64_t h = hash_key(s, key);
    for (;;) {
        uint64_t k = s->table[h].key;
        if (k == key)
            return (int32_t)s->table[h].slot;
        if (k == 0)
            return -1;
        h = (h + 1) & s->ht_mask;
    }
}

/* Copy a C-contiguous buffer of exactly `size` bytes into fresh memory. */
static void *
copy_buffer(PyObject *obj, Py_ssize_t itemsize, Py_ssize_t *n_items, const char *what)
{
    Py_buffer view;
    if (PyObject_GetBuffer(obj, &view, PyBUF_C_CONTIGUOUS) < 0)
        return NULL;
    if (view.len % itemsize != 0) {
        PyBuffer_Release(&view);
        PyErr_Format(PyExc_ValueError, "%s: %zd bytes is not a multiple of %zd", what, view.len,
                     itemsize);
        return NULL;
    }
    void *out = PyMem_Malloc(view.len ? view.len : 1);
    if (out == NULL) {
        PyBuffer_Release(&view);
        PyErr_NoMemory();
        return NULL;
    }
    memcpy(out, view.buf, view.len);
    *n_items = view.len / itemsize;
    PyBuffer_Release(&view);
    return out;
}

/* Grow the per-call scratch arrays to hold n keys. */
static int
reserve(Scorer *s, Py_ssize_t n)
{
    if (n <= s->cap)
        return 0;
    Py_ssize_t cap = n < 4096 ? 4096 : n * 2;
    double *vals = PyMem_Realloc(s->vals, cap * sizeof(double));
    if (vals == NULL)
        goto fail;
    s->vals = vals;
    uint64_t *keys = PyMem_Realloc(s->keys, cap * sizeof(uint64_t));
    if (keys == NULL)
        goto fail;
    s->keys = keys;
    int32_t *slots = PyMem_Realloc(s->slots, cap * sizeof(int32_t));
    if (slots == NULL)
        goto fail;
    s->slots = slots;
    int32_t *hits = PyMem_Realloc(s->hits, cap * sizeof(int32_t));
    if (hits == NULL)
        goto fail;
    s->hits = hits;
    int32_t *counts = PyMem_Realloc(s->counts, cap * sizeof(int32_t));
    if (counts == NULL)
        goto fail;
    s->counts = counts;
    s->cap = cap;
    return 0;
fail:
    PyErr_NoMemory();
    return -1;
}

/* Grow the character-id scratch array to n entries. */
static int
reserve_codes(Scorer *s, Py_ssize_t n)
{
    if (n <= s->codes_cap)
        return 0;
    Py_ssize_t cap = n < 4096 ? 4096 : n * 2;
    uint32_t *codes = PyMem_Realloc(s->codes, cap * sizeof(uint32_t));
    if (codes == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    s->codes = codes;
    s->codes_cap = cap;
    return 0;
}

/* Free a Knn's arrays and clear it. */
static void
free_knn(Knn *k)
{
    PyMem_Free(k->indptr);
    PyMem_Free(k->postings);
    PyMem_Free(k->doc_class);
    PyMem_Free(k->ks);
    PyMem_Free(k->acc);
    PyMem_Free(k->top);
    PyMem_Free(k->top_n);
    PyMem_Free(k->floor);
    memset(k, 0, sizeof(Knn));
}

static void
Scorer_dealloc(Scorer *s)
{
    Py_XDECREF(s->tok_ids);
    PyMem_Free(s->char_code);
    PyMem_Free(s->table);
    PyMem_Free(s->rows);
    PyMem_Free(s->is_word);
    PyMem_Free(s->seen);
    PyMem_Free(s->keys);
    PyMem_Free(s->slots);
    PyMem_Free(s->vals);
    PyMem_Free(s->hits);
    PyMem_Free(s->counts);
    PyMem_Free(s->codes);
    free_knn(&s->knn);
    Py_TYPE(s)->tp_free((PyObject *)s);
}

/* Scorer(keys, rows, is_word, n_out, tok_ids, char_code, lo, hi, tok_bits, char_bits,
 *        tag_shift, tag_uni, tag_bi) */
static int
Scorer_init(Scorer *s, PyObject *args, PyObject *kwds)
{
    PyObject *keys_obj, *rows_obj, *word_obj, *tok_ids, *code_obj;
    Py_ssize_t n_out;
    if (!PyArg_ParseTuple(args, "OOOnO!Oiiiiiii", &keys_obj, &rows_obj, &word_obj, &n_out,
                          &PyDict_Type, &tok_ids, &code_obj, &s->lo, &s->hi, &s->tok_bits,
                          &s->char_bits, &s->tag_shift, &s->tag_uni, &s->tag_bi))
        return -1;
    if (s->rows != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Scorer is already initialised");
        return -1;
    }
    if (n_out < 1 || s->lo < 1 || s->hi < s->lo || s->tag_shift < 1 || s->tag_shift > 63) {
        PyErr_SetString(PyExc_ValueError, "invalid Scorer settings");
        return -1;
    }
    Py_ssize_t n_keys, n_rows, n_word, n_code;
    uint64_t *keys = copy_buffer(keys_obj, sizeof(uint64_t), &n_keys, "keys");
    if (keys == NULL)
        return -1;
    s->n_slots = n_keys;
    s->n_out = n_out;
    s->rows = copy_buffer(rows_obj, sizeof(float), &n_rows, "rows");
    s->is_word = s->rows ? copy_buffer(word_obj, 1, &n_word, "is_word") : NULL;
    s->char_code = s->is_word ? copy_buffer(code_obj, sizeof(uint32_t), &n_code, "char_code")
                              : NULL;
    if (s->char_code == NULL) {
        PyMem_Free(keys);
        return -1;
    }
    s->n_char_code = (Py_UCS4)n_code;
    if (n_rows != n_keys * (1 + n_out) || n_word != n_keys) {
        PyMem_Free(keys);
        PyErr_SetString(PyExc_ValueError, "rows / is_word do not match the number of keys");
        return -1;
    }
    /* Table at most half full, so a miss ends after a probe or two. */
    int bits = 4;
    while (((Py_ssize_t)1 << bits) < 2 * n_keys)
        bits++;
    s->ht_shift = 64 - bits;
    s->ht_mask = ((uint64_t)1 << bits) - 1;
    s->table = PyMem_Calloc((size_t)1 << bits, sizeof(Cell));
    s->seen = PyMem_Calloc(n_keys ? n_keys : 1, sizeof(Seen));
    if (!s->table || !s->seen) {
        PyMem_Free(keys);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n_keys; i++) {
        if (keys[i] == 0) {
            PyMem_Free(keys);
            PyErr_SetString(PyExc_ValueError, "key 0 is reserved for empty table cells");
            return -1;
        }
        uint64_t h = hash_key(s, keys[i]);
        while (s->table[h].key != 0) {
            if (s->table[h].key == keys[i]) {
                PyMem_Free(keys);
                PyErr_SetString(PyExc_ValueError, "duplicate key");
                return -1;
            }
            h = (h + 1) & s->ht_mask;
        }
        s->table[h].key = keys[i];
        s->table[h].slot = i;
    }
    PyMem_Free(keys);
    Py_INCREF(tok_ids);
    s->tok_ids = tok_ids;
    return reserve(s, 4096) < 0 || reserve_codes(s, 4096) < 0 ? -1 : 0;
}

/* Token id of a str token (0 when unknown), or -1 with an exception set. */
static int64_t
token_id(Scorer *s, PyObject *tok)
{
    PyObject *v = PyDict_GetItemWithError(s->tok_ids, tok);
    if (v == NULL)
        return PyErr_Occurred() ? -1 : 0;
    long long id = PyLong_AsLongLong(v);
    if (id == -1 && PyErr_Occurred())
        return -1;
    return id;
}

/* set_knn(indptr, docs, vals, doc_class, n_classes, ks): postings of each slot (int64 indptr of
 * n_slots + 1, uint32 training tickets, float32 values), each ticket's class (uint8) and the
 * ascending k of the per-class top-k sums. */
static PyObject *
Scorer_set_knn(Scorer *s, PyObject *args)
{
    PyObject *indptr_obj, *docs_obj, *vals_obj, *class_obj, *ks_obj;
    Py_ssize_t n_classes;
    if (!PyArg_ParseTuple(args, "OOOOnO!", &indptr_obj, &docs_obj, &vals_obj, &class_obj,
                          &n_classes, &PyTuple_Type, &ks_obj))
        return NULL;
    if (s->rows == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Scorer is not initialised");
        return NULL;
    }
    /* Built aside and swapped in only when valid: a failed call keeps the old postings. */
    Knn k = {0};
    uint32_t *docs = NULL;
    float *vals = NULL;
    Py_ssize_t n_ptr, n_docs_p, n_vals, n_docs;
    k.indptr = copy_buffer(indptr_obj, sizeof(int64_t), &n_ptr, "indptr");
    docs = k.indptr ? copy_buffer(docs_obj, sizeof(uint32_t), &n_docs_p, "docs") : NULL;
    vals = docs ? copy_buffer(vals_obj, sizeof(float), &n_vals, "vals") : NULL;
    k.doc_class = vals ? copy_buffer(class_obj, 1, &n_docs, "doc_class") : NULL;
    if (k.doc_class == NULL)
        goto fail;
    Py_ssize_t n_ks = PyTuple_GET_SIZE(ks_obj);
    if (n_ptr != s->n_slots + 1 || n_docs_p != n_vals || n_classes < 1 || n_classes > 255 ||
        n_ks < 1 || n_ks > 64) {
        PyErr_SetString(PyExc_ValueError, "kNN postings do not match the scorer");
        goto fail;
    }
    if (k.indptr[0] != 0 || k.indptr[n_ptr - 1] != n_vals) {
        PyErr_SetString(PyExc_ValueError, "kNN indptr must run from 0 to the number of postings");
        goto fail;
    }
    for (Py_ssize_t i = 0; i + 1 < n_ptr; i++)
        if (k.indptr[i + 1] < k.indptr[i]) {
            PyErr_SetString(PyExc_ValueError, "kNN indptr must not decrease");
            goto fail;
        }
    for (Py_ssize_t i = 0; i < n_vals; i++)
        if ((Py_ssize_t)docs[i] >= n_docs) {
            PyErr_SetString(PyExc_ValueError, "kNN posting names a ticket out of range");
            goto fail;
        }
    for (Py_ssize_t i = 0; i < n_docs; i++)
        if (k.doc_class[i] >= n_classes) {
            PyErr_SetString(PyExc_ValueError, "kNN ticket class out of range");
            goto fail;
        }
    k.ks = PyMem_Malloc(n_ks * sizeof(int32_t));
    if (k.ks == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    for (Py_ssize_t j = 0; j < n_ks; j++) {
        long kv = PyLong_AsLong(PyTuple_GET_ITEM(ks_obj, j));
        if (kv == -1 && PyErr_Occurred())
            goto fail;
        if (kv < 1 || kv > 4096 || (j > 0 && kv <= k.ks[j - 1])) {
            PyErr_SetString(PyExc_ValueError, "ks must be ascending integers in 1..4096");
            goto fail;
        }
        k.ks[j] = (int32_t)kv;
    }
    k.n_ks = (int)n_ks;
    k.kmax = k.ks[n_ks - 1];
    k.n_docs = n_docs;
    k.n_classes = n_classes;
    k.postings = PyMem_Malloc((n_vals ? n_vals : 1) * sizeof(Posting));
    if (k.postings == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    for (Py_ssize_t i = 0; i < n_vals; i++) {
        k.postings[i].doc = docs[i];
        k.postings[i].val = vals[i];
    }
    PyMem_Free(docs);
    PyMem_Free(vals);
    docs = NULL;
    vals = NULL;
    k.acc = PyMem_Calloc(n_docs ? n_docs : 1, sizeof(double));
    k.top = PyMem_Malloc(n_classes * k.kmax * sizeof(double));
    k.top_n = PyMem_Malloc(n_classes * sizeof(int32_t));
    k.floor = PyMem_Malloc(n_classes * sizeof(double));
    if (!k.acc || !k.top || !k.top_n || !k.floor) {
        PyErr_NoMemory();
        goto fail;
    }
    free_knn(&s->knn);
    s->knn = k;
    Py_RETURN_NONE;
fail:
    PyMem_Free(docs);
    PyMem_Free(vals);
    free_knn(&k);
    return NULL;
}

/* Per-class top-k similarity sums of the training tickets (see set_knn). */
static void
knn_scores(const Scorer *s, const double *vals, const int32_t *hits, Py_ssize_t n_hits,
           double norm_word, double norm_char, double *knn_out)
{
    const Knn *k = &s->knn;
    /* A plain scatter-add into a zeroed array, then one pass over all tickets: cheaper than
     * tracking which tickets were touched (the array is small enough to stay in cache). */
    double *acc = k->acc;
    memset(acc, 0, k->n_docs * sizeof(double));
    const Posting *post = k->postings;
    /* Each slot's postings start at a random place in an array far bigger than the cache:
     * prefetch them several slots ahead (pass 4 already prefetched the indptr entries). */
    enum { AHEAD = 12 };
    for (Py_ssize_t h = 0; h < n_hits; h++) {
        if (h + AHEAD < n_hits) {
            /* every cache line of that slot's postings (8 postings to a 64-byte line) */
            int32_t ahead = hits[h + AHEAD];
            for (int64_t q = k->indptr[ahead]; q < k->indptr[ahead + 1]; q += 8)
                __builtin_prefetch(post + q);
        }
        int32_t slot = hits[h];
        int64_t p = k->indptr[slot], end = k->indptr[slot + 1];
        double v = vals[h] / (s->is_word[slot] ? norm_word : norm_char);
        for (; p < end; p++)
            acc[post[p].doc] += v * (double)post[p].val;
    }
    const int kmax = k->kmax;
    double *floor = k->floor;
    for (Py_ssize_t c = 0; c < k->n_classes; c++) {
        k->top_n[c] = 0;
        floor[c] = 0.0; /* a ticket sharing no feature (0) adds nothing to a sum */
    }
    /* Keep each class's kmax largest similarities, descending, by insertion. floor[c] is the
     * smallest value that can still enter class c's list, so most tickets cost one compare. */
    const uint8_t *doc_class = k->doc_class;
    for (Py_ssize_t d = 0; d < k->n_docs; d++) {
        double x = acc[d];
        int c = doc_class[d];
        if (x <= floor[c])
            continue;
        double *top = k->top + c * kmax;
        int n = k->top_n[c];
        int i = n < kmax ? n++ : kmax - 1;
        while (i > 0 && top[i - 1] < x) {
            top[i] = top[i - 1];
            i--;
        }
        top[i] = x;
        k->top_n[c] = n;
        if (n == kmax)
            floor[c] = top[kmax - 1];
    }
    for (Py_ssize_t c = 0; c < k->n_classes; c++) {
        const double *top = k->top + c * kmax;
        double sum = 0.0;
        int i = 0;
        for (int j = 0; j < k->n_ks; j++) {
            for (; i < k->ks[j] && i < k->top_n[c]; i++)
                sum += top[i];
            knn_out[j * k->n_classes + c] = sum;
        }
    }
}

/* Release the output buffers of one scores() call (a zeroed, unused one is a no-op). */
static void
release_buffers(Py_buffer *out, Py_buffer *knn_out)
{
    PyBuffer_Release(out);
    if (knn_out->obj != NULL)
        PyBuffer_Release(knn_out);
}

/* scores(tokens, out[, knn_out]) -> number of distinct features found; out[j] = sum of
 * tfidf x coef_j; knn_out (n_ks x n_classes, after set_knn) = per-class top-k similarities. */
static PyObject *
Scorer_scores(Scorer *s, PyObject *args)
{
    PyObject *tokens, *out_obj, *knn_obj = Py_None;
    if (!PyArg_ParseTuple(args, "O!O|O", &PyList_Type, &tokens, &out_obj, &knn_obj))
        return NULL;
    Py_buffer out, knn_out = {0};
    if (PyObject_GetBuffer(out_obj, &out, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0)
        return NULL;
    if (out.len != (Py_ssize_t)(s->n_out * sizeof(double))) {
        PyBuffer_Release(&out);
        PyErr_SetString(PyExc_ValueError, "out must hold n_out float64 values");
        return NULL;
    }
    if (knn_obj != Py_None) {
        if (s->knn.indptr == NULL) {
            PyBuffer_Release(&out);
            PyErr_SetString(PyExc_RuntimeError, "knn_out given but set_knn was not called");
            return NULL;
        }
        if (PyObject_GetBuffer(knn_obj, &knn_out, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0) {
            PyBuffer_Release(&out);
            return NULL;
        }
        if (knn_out.len != (Py_ssize_t)(s->knn.n_ks * s->knn.n_classes * sizeof(double))) {
            release_buffers(&out, &knn_out);
            PyErr_SetString(PyExc_ValueError, "knn_out must hold n_ks x n_classes float64");
            return NULL;
        }
    }
    double *scores = out.buf;
    for (Py_ssize_t j = 0; j < s->n_out; j++)
        scores[j] = 0.0;
    Py_ssize_t n_tok = PyList_GET_SIZE(tokens);
    Py_ssize_t n_chars = n_tok ? n_tok - 1 : 0; /* the joining spaces */
    for (Py_ssize_t i = 0; i < n_tok; i++) {
        PyObject *t = PyList_GET_ITEM(tokens, i);
        if (!PyUnicode_Check(t)) {
            release_buffers(&out, &knn_out);
            PyErr_SetString(PyExc_TypeError, "tokens must be str");
            return NULL;
        }
        n_chars += PyUnicode_GET_LENGTH(t);
    }
    /* Features: n_tok unigrams + (n_tok - 1) bigrams + for each n, n_chars - n + 1 char grams. */
    Py_ssize_t n_max = 2 * n_tok + (s->hi - s->lo + 1) * n_chars + 1;
    if (reserve(s, n_max) < 0 || reserve_codes(s, n_chars + 1) < 0) {
        release_buffers(&out, &knn_out);
        return NULL;
    }
    if (++s->call == 0) { /* call numbers wrapped: forget every slot seen */
        memset(s->seen, 0, s->n_slots * sizeof(Seen));
        s->call = 1;
    }
    /* Pass 1: every n-gram key, in FeatureIndex's order (word uni, bi, then char by length). */
    const uint64_t tag_uni = (uint64_t)s->tag_uni << s->tag_shift;
    const uint64_t tag_bi = (uint64_t)s->tag_bi << s->tag_shift;
    const uint32_t space_code = ' ' < s->n_char_code ? s->char_code[' '] : 0;
    uint64_t *keys = s->keys;
    Py_ssize_t n_keys = 0, pos = 0;
    uint64_t prev = 0;
    for (Py_ssize_t i = 0; i < n_tok; i++) {
        PyObject *t = PyList_GET_ITEM(tokens, i);
        int64_t id = token_id(s, t);
        if (id < 0) {
            release_buffers(&out, &knn_out);
            return NULL;
        }
        keys[n_keys++] = (uint64_t)id | tag_uni;
        if (i > 0) {
            keys[n_keys++] = (prev << s->tok_bits) | (uint64_t)id | tag_bi;
            s->codes[pos++] = space_code;
        }
        prev = (uint64_t)id;
        int kind = PyUnicode_KIND(t);
        const void *data = PyUnicode_DATA(t);
        Py_ssize_t len = PyUnicode_GET_LENGTH(t);
        for (Py_ssize_t k = 0; k < len; k++) {
            Py_UCS4 cp = PyUnicode_READ(kind, data, k);
            s->codes[pos++] = cp < s->n_char_code ? s->char_code[cp] : 0;
        }
    }
    for (int n = s->lo; n <= s->hi; n++) {
        const uint64_t tag = (uint64_t)n << s->tag_shift;
        for (Py_ssize_t p = 0; p + n <= pos; p++) {
            uint64_t code = 0;
            for (int k = 0; k < n; k++)
                code = (code << s->char_bits) | s->codes[p + k];
            keys[n_keys++] = code | tag;
        }
    }
    /* Pass 2: slots. The table is far bigger than the CPU cache, so each probe is a memory
     * round trip; prefetching a few keys ahead overlaps them instead of paying one by one. */
    enum { AHEAD = 8 };
    int32_t *slots = s->slots;
    for (Py_ssize_t i = 0; i < n_keys; i++) {
        if (i + AHEAD < n_keys)
            __builtin_prefetch(&s->table[hash_key(s, keys[i + AHEAD])]);
        slots[i] = find_slot(s, keys[i]);
    }
    /* Pass 3: count each distinct slot (Seen marks the slots this call has listed). */
    Py_ssize_t n_hits = 0;
    for (Py_ssize_t i = 0; i < n_keys; i++) {
        if (i + AHEAD < n_keys && slots[i + AHEAD] >= 0)
            __builtin_prefetch(&s->seen[slots[i + AHEAD]]);
        int32_t slot = slots[i];
        if (slot < 0)
            continue;
        Seen *seen = &s->seen[slot];
        if (seen->call != s->call) {
            seen->call = s->call;
            seen->where = (int32_t)n_hits;
            s->hits[n_hits] = slot;
            s->counts[n_hits] = 1;
            n_hits++;
        }
        else {
            s->counts[seen->where]++;
        }
    }
    /* Pass 4: sublinear tf x idf, then the l2 norm of each block. */
    const Py_ssize_t width = 1 + s->n_out;
    double w2 = 0.0, c2 = 0.0;
    double *vals = s->vals;
    for (Py_ssize_t h = 0; h < n_hits; h++) {
        if (h + AHEAD < n_hits) {
            __builtin_prefetch(s->rows + s->hits[h + AHEAD] * width);
            if (s->knn.indptr != NULL)
                __builtin_prefetch(s->knn.indptr + s->hits[h + AHEAD]);
        }
        int32_t slot = s->hits[h];
        double v = (1.0 + log((double)s->counts[h])) * (double)s->rows[slot * width];
        vals[h] = v;
        if (s->is_word[slot])
            w2 += v * v;
        else
            c2 += v * v;
    }
    /* Divide (not multiply by the inverse) to round as the numpy path does. */
    double wn = w2 > 0 ? sqrt(w2) : 1.0;
    double cn = c2 > 0 ? sqrt(c2) : 1.0;
    /* Pass 5: the rows are in cache now (pass 4 read them). */
    for (Py_ssize_t h = 0; h < n_hits; h++) {
        int32_t slot = s->hits[h];
        double v = vals[h] / (s->is_word[slot] ? wn : cn);
        const float *coef = s->rows + slot * width + 1;
        for (Py_ssize_t j = 0; j < s->n_out; j++)
            scores[j] += v * (double)coef[j];
    }
    if (knn_obj != Py_None)
        knn_scores(s, vals, s->hits, n_hits, wn, cn, knn_out.buf);
    release_buffers(&out, &knn_out);
    return PyLong_FromSsize_t(n_hits);
}

static PyMethodDef Scorer_methods[] = {
    {"scores", (PyCFunction)Scorer_scores, METH_VARARGS,
     "scores(tokens, out[, knn_out]) -> distinct features found; writes the linear scores "
     "into out and, after set_knn, the per-class top-k similarity sums into knn_out."},
    {"set_knn", (PyCFunction)Scorer_set_knn, METH_VARARGS,
     "set_knn(indptr, docs, vals, doc_class, n_classes, ks): nearest-ticket postings."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ScorerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "classifier._scorer.Scorer",
    .tp_doc = "Linear scores of token lists over hashed word and char n-gram TF-IDF features.",
    .tp_basicsize = sizeof(Scorer),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Scorer_init,
    .tp_dealloc = (destructor)Scorer_dealloc,
    .tp_methods = Scorer_methods,
};

static struct PyModuleDef scorer_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "classifier._scorer",
    .m_doc = "C fast path of the category model's feature look-up and linear scores.",
    .m_size = -1,
};

PyMODINIT_FUNC
PyInit__scorer(void)
{
    if (PyType_Ready(&ScorerType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&scorer_module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&ScorerType);
    if (PyModule_AddObject(m, "Scorer", (PyObject *)&ScorerType) < 0) {
        Py_DECREF(&ScorerType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
