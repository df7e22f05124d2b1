/* _jiebacut: an exact C port of jieba 0.42.1 Tokenizer.lcut(text) (cut_all=False, HMM=True).
 *
 * A Segmenter copies a live jieba.Tokenizer's FREQ and total and jieba.finalseg's HMM tables
 * when it is built, so it must be rebuilt whenever the tokenizer's dictionary changes
 * (add_word, del_word, suggest_freq(tune=True), load_userdict, initialize with another file).
 *
 * Every token jieba yields is a slice of the input, so segmentation runs on code points and
 * records (start, end) spans; str objects are made only at the end. The arithmetic mirrors
 * jieba's: the same doubles, added in the same order, with log() from the same libm as
 * Python's math.log, and the same tie-breaking as Python's max() over tuples.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdint.h>
#include <string.h>

/* finalseg.re_han: the HMM only ever sees code points in this range. */
#define HAN_LO 0x4E00
#define HAN_HI 0x9FD5
#define HAN_N (HAN_HI - HAN_LO + 1)

/* HMM states indexed in letter order, so comparing indices compares jieba's state letters. */
enum { ST_B, ST_E, ST_M, ST_S, N_STATES };
static const char STATE_LETTERS[N_STATES] = {'B', 'E', 'M', 'S'};

/* finalseg.PrevStatus, each pair in jieba's order. */
static const int PREV_STATES[N_STATES][2] = {
    [ST_B] = {ST_E, ST_S},
    [ST_E] = {ST_B, ST_M},
    [ST_M] = {ST_M, ST_B},
    [ST_S] = {ST_S, ST_E},
};

/* str objects need no readying from Python 3.12 on (and the macro is deprecated there). */
#if PY_VERSION_HEX < 0x030C0000
#define STR_READY(op) PyUnicode_READY(op)
#else
#define STR_READY(op) 0
#endif

/* finalseg.MIN_FLOAT, used when the caller does not pass min_float. */
#define DEFAULT_MIN_FLOAT (-3.14e100)

/* The trie is one open-addressing hash table of nodes: the node for key + c sits in the slot
 * found by hashing (id of key's node, c), and a node's id is its slot index + 1 (0 is the root,
 * ""). A slot holds the node's flags and weight too, so each step of a look-up reads one cache
 * line. Ids depend on the table size, so the table is filled once at a fixed size (and refilled
 * from scratch at twice the size in the rare case the dictionary does not fit). */
#define NODE_IN_FREQ 1u /* the key is in FREQ: a word, or a prefix with freq 0 */
#define NODE_WORD 2u    /* FREQ[key] is truthy */
#define NODE_FORCE 4u   /* the key is in finalseg.Force_Split_Words */

#define ROOT 0u
#define CHAR_BITS 21 /* code points fit in 21 bits */
#define FLAG_SHIFT 61 /* bits 61-63 of a slot key hold the NODE_* flags */
#define KEY_MASK ((UINT64_C(1) << FLAG_SHIFT) - 1)
#define MAX_LOAD_NUM 7 /* the table is at most 7/10 full */
#define MAX_LOAD_DEN 10
/* Node ids (up to the capacity) must fit between the char and the flags of a key, and the
 * table's byte size in a size_t. */
#define MAX_TABLE_BITS (SIZEOF_SIZE_T >= 8 ? FLAG_SHIFT - CHAR_BITS - 1 : 26)

/* One trie node. */
typedef struct {
    uint64_t key; /* (parent id << CHAR_BITS) | char, flags above FLAG_SHIFT; 0 = free slot */
    double weight; /* log(FREQ[key]) - log(total), for NODE_WORD nodes */
} Slot;

typedef struct {
    PyObject_HEAD
    Slot *slots;
    size_t mask;          /* capacity - 1 (the capacity is a power of two) */
    int shift;            /* 64 - log2(capacity), for the multiplicative hash */
    size_t n_nodes;       /* slots in use */
    double single_weight; /* log(1) - log(total): calc's value for a char that is no word */
    double start[N_STATES];
    double trans[N_STATES][N_STATES];
    double *emit;  /* [N_STATES][HAN_N] emission log-probabilities, min_float when absent */
    int has_force; /* Force_Split_Words held a word of 2+ chars */
} SegmenterObject;

/* Per-call scratch space; the Segmenter itself is never written after construction. */
typedef struct {
    Py_UCS4 *s;           /* the text as code points */
    double *route_p;      /* calc's route[x][0], by text position */
    Py_ssize_t *route_x;  /* calc's route[x][1], by text position */
    unsigned char *back;  /* viterbi back-pointers, N_STATES per char of the run */
    unsigned char *path;  /* viterbi's best state per char of the run */
    Py_ssize_t *spans;    /* token i is s[spans[2i]:spans[2i+1]] */
    Py_ssize_t n_spans;   /* tokens recorded */
    Py_ssize_t cap_spans; /* tokens that fit in spans */
    int failed;           /* out of memory while growing spans */
} Work;

/* ---- the trie ---------------------------------------------------------------------------- */

/* The first slot to probe for a node key. */
static inline size_t
slot_of(uint64_t key, int shift)
{
    return (size_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> shift);
}

/* The id of node's child labelled c, or ROOT (0) when there is none. */
static inline size_t
child_of(const SegmenterObject *sg, size_t node, Py_UCS4 c)
{
    uint64_t key = ((uint64_t)node << CHAR_BITS) | c;
    size_t i = slot_of(key, sg->shift);
    for (;;) {
        uint64_t k = sg->slots[i].key;
        if ((k & KEY_MASK) == key)
            return i + 1;
        if (k == 0)
            return ROOT;
        i = (i + 1) & sg->mask;
    }
}

/* NODE_* flags of a node other than the root. */
static inline unsigned
flags_of(const SegmenterObject *sg, size_t node)
{
    return (unsigned)(sg->slots[node - 1].key >> FLAG_SHIFT);
}

/* Flags of the node for the string s[0:len] (len > 0), 0 when it is not in the trie. */
static unsigned
key_flags(const SegmenterObject *sg, const Py_UCS4 *s, Py_ssize_t len)
{
    size_t node = ROOT;
    for (Py_ssize_t i = 0; i < len; i++) {
        node = child_of(sg, node, s[i]);
        if (node == ROOT)
            return 0;
    }
    return flags_of(sg, node);
}

/* ---- trie construction ------------------------------------------------------------------- */

/* add_key's result when the table is full: refill at twice the size (no exception set). */
#define TABLE_FULL (-2)

/* The child of node labelled c, added (with no flags) when absent; TABLE_FULL when full. */
static Py_ssize_t
add_child(SegmenterObject *sg, size_t node, Py_UCS4 c)
{
    uint64_t key = ((uint64_t)node << CHAR_BITS) | c;
    size_t i = slot_of(key, sg->shift);
    while (sg->slots[i].key != 0) {
        if ((sg->slots[i].key & KEY_MASK) == key)
            return (Py_ssize_t)i + 1;
        i = (i + 1) & sg->mask;
    }
    if ((sg->n_nodes + 1) * MAX_LOAD_DEN > (sg->mask + 1) * MAX_LOAD_NUM)
        return TABLE_FULL;
    sg->slots[i].key = key;
    sg->slots[i].weight = 0.0;
    sg->n_nodes++;
    return (Py_ssize_t)i + 1;
}

/* The node of the non-empty str key, adding its path as needed; TABLE_FULL when full. */
static Py_ssize_t
add_key(SegmenterObject *sg, PyObject *key)
{
    int kind = PyUnicode_KIND(key);
    const void *data = PyUnicode_DATA(key);
    Py_ssize_t len = PyUnicode_GET_LENGTH(key), node = ROOT;
    for (Py_ssize_t i = 0; i < len && node != TABLE_FULL; i++)
        node = add_child(sg, (size_t)node, PyUnicode_READ(kind, data, i));
    return node;
}

/* Sets NODE_* flags on a node. */
static void
set_flags(SegmenterObject *sg, Py_ssize_t node, unsigned flags)
{
    sg->slots[node - 1].key |= (uint64_t)flags << FLAG_SHIFT;
}

/* Raises exc about FREQ[key] = v (or total = v when key is NULL); returns -1. */
static int
freq_error(PyObject *exc, PyObject *key, PyObject *v, const char *why)
{
    if (key != NULL)
        PyErr_Format(exc, "FREQ[%R] = %R: %s", key, v, why);
    else
        PyErr_Format(exc, "total = %R: %s", v, why);
    return -1;
}

/* Reads FREQ[key] (or total, when key is NULL) as jieba uses it: truthiness and
 * math.log(value); -1 on error. Values jieba could not take the log of are refused, so the
 * caller falls back to jieba, which then fails (or not) exactly as it always did. */
static int
read_freq(PyObject *key, PyObject *v, int *truthy, double *logv)
{
    double d;
    if (v == Py_None) {
        *truthy = 0;
        return 0;
    }
    if (PyLong_Check(v)) {
        d = PyLong_AsDouble(v); /* what math.log does with an int that fits a double */
        if (d == -1.0 && PyErr_Occurred())
            return -1;
    }
    else if (PyFloat_Check(v)) {
        d = PyFloat_AS_DOUBLE(v);
    }
    else {
        return freq_error(PyExc_TypeError, key, v, "not an int or float");
    }
    if (d == 0.0) { /* a nonzero int never converts to 0.0 */
        *truthy = 0;
        return 0;
    }
    if (!(d > 0.0) || !isfinite(d))
        return freq_error(PyExc_ValueError, key, v, "no finite logarithm");
    *truthy = 1;
    *logv = log(d);
    return 0;
}

/* Fills the table from FREQ (a dict) and total; -1 on error, TABLE_FULL when too small. */
static int
load_freq(SegmenterObject *sg, PyObject *freq, PyObject *total)
{
    int truthy = 0;
    double logtotal = 0.0, logf = 0.0;
    PyObject *key, *value;
    Py_ssize_t pos = 0;

    if (read_freq(NULL, total, &truthy, &logtotal) < 0)
        return -1;
    if (!truthy) {
        PyErr_SetString(PyExc_ValueError, "total must be positive");
        return -1;
    }
    sg->single_weight = log(1.0) - logtotal;
    while (PyDict_Next(freq, &pos, &key, &value)) {
        if (!PyUnicode_Check(key)) {
            PyErr_Format(PyExc_TypeError, "FREQ keys must be str, not %.100s",
                         Py_TYPE(key)->tp_name);
            return -1;
        }
        if (STR_READY(key) < 0)
            return -1;
        if (PyUnicode_GET_LENGTH(key) == 0)
            continue; /* jieba never looks up "" */
        if (read_freq(key, value, &truthy, &logf) < 0)
            return -1;
        Py_ssize_t node = add_key(sg, key);
        if (node == TABLE_FULL)
            return TABLE_FULL;
        set_flags(sg, node, truthy ? NODE_IN_FREQ | NODE_WORD : NODE_IN_FREQ);
        if (truthy)
            sg->slots[node - 1].weight = logf - logtotal; /* calc's first subtraction, once */
    }
    return 0;
}

/* Marks finalseg.Force_Split_Words (a list of str); -1 on error, TABLE_FULL when too small. */
static int
load_force(SegmenterObject *sg, PyObject *words)
{
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(words); i++) {
        PyObject *word = PyList_GET_ITEM(words, i);
        if (!PyUnicode_Check(word)) {
            PyErr_Format(PyExc_TypeError, "force_split items must be str, not %.100s",
                         Py_TYPE(word)->tp_name);
            return -1;
        }
        if (STR_READY(word) < 0)
            return -1;
        /* Splitting a one-char word into its chars changes nothing, so only longer ones count. */
        if (PyUnicode_GET_LENGTH(word) < 2)
            continue;
        Py_ssize_t node = add_key(sg, word);
        if (node == TABLE_FULL)
            return TABLE_FULL;
        set_flags(sg, node, NODE_FORCE);
        sg->has_force = 1;
    }
    return 0;
}

/* Builds the trie from FREQ, total and Force_Split_Words (any iterable of str); -1 on error. */
static int
load_trie(SegmenterObject *sg, PyObject *freq, PyObject *total, PyObject *force)
{
    PyObject *words = PySequence_List(force); /* iterated once per fill attempt */
    if (words == NULL)
        return -1;
    /* A dictionary from jieba is prefix-closed: one node per key (and per force-split char). */
    size_t want = (size_t)PyDict_GET_SIZE(freq) + 1;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(words); i++) {
        PyObject *w = PyList_GET_ITEM(words, i);
        if (PyUnicode_Check(w))
            want += (size_t)PyUnicode_GET_LENGTH(w);
    }
    int bits = 4, rc = TABLE_FULL;
    while (bits <= MAX_TABLE_BITS && ((size_t)1 << bits) / MAX_LOAD_DEN * MAX_LOAD_NUM < want)
        bits++;
    for (; rc == TABLE_FULL; bits++) {
        PyMem_Free(sg->slots);
        sg->slots = NULL;
        if (bits > MAX_TABLE_BITS) {
            PyErr_SetString(PyExc_OverflowError, "dictionary too large for the C segmenter");
            rc = -1;
            break;
        }
        size_t cap = (size_t)1 << bits;
        sg->slots = PyMem_Calloc(cap, sizeof(Slot)); /* key 0: free */
        if (sg->slots == NULL) {
            PyErr_NoMemory();
            rc = -1;
            break;
        }
        sg->mask = cap - 1;
        sg->shift = 64 - bits;
        sg->n_nodes = 0;
        sg->has_force = 0;
        rc = load_freq(sg, freq, total);
        if (rc == 0)
            rc = load_force(sg, words);
    }
    Py_DECREF(words);
    return rc;
}

/* A float probability from a table, as Python would add it; -1 when it is not a float. */
static int
read_prob(PyObject *v, const char *table, char state, double *out)
{
    if (!PyFloat_Check(v)) {
        PyErr_Format(PyExc_TypeError, "%s['%c'] values must be float, not %.100s", table, state,
                     Py_TYPE(v)->tp_name);
        return -1;
    }
    *out = PyFloat_AS_DOUBLE(v);
    return 0;
}

/* The dict table[letter] (a new reference); NULL with TypeError when it is not a dict. */
static PyObject *
state_row(PyObject *table, PyObject *letter, const char *name)
{
    PyObject *row = PyObject_GetItem(table, letter);
    if (row != NULL && !PyDict_Check(row)) {
        PyErr_Format(PyExc_TypeError, "%s[%R] must be a dict", name, letter);
        Py_CLEAR(row);
    }
    return row;
}

/* Fills the emission table of one state from its dict (char -> log-probability). */
static int
load_emit_row(SegmenterObject *sg, int st, PyObject *row)
{
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(row, &pos, &key, &value)) {
        /* Only single chars of finalseg's han range are ever looked up. */
        if (!PyUnicode_Check(key))
            continue;
        if (STR_READY(key) < 0)
            return -1;
        if (PyUnicode_GET_LENGTH(key) != 1)
            continue;
        Py_UCS4 c = PyUnicode_READ_CHAR(key, 0);
        if (c < HAN_LO || c > HAN_HI)
            continue;
        if (read_prob(value, "emit_p", STATE_LETTERS[st], &sg->emit[st * HAN_N + (c - HAN_LO)]) < 0)
            return -1;
    }
    return 0;
}

/* Copies finalseg's start_P, trans_P and emit_P; -1 on error. */
static int
load_hmm(SegmenterObject *sg, PyObject *start_p, PyObject *trans_p, PyObject *emit_p,
         double min_float)
{
    PyObject *letters[N_STATES] = {NULL};
    int rc = -1;

    sg->emit = PyMem_New(double, (size_t)N_STATES * HAN_N);
    if (sg->emit == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t i = 0; i < (size_t)N_STATES * HAN_N; i++)
        sg->emit[i] = min_float;
    for (int st = 0; st < N_STATES; st++) {
        letters[st] = PyUnicode_FromOrdinal(STATE_LETTERS[st]);
        if (letters[st] == NULL)
            goto done;
    }
    for (int st = 0; st < N_STATES; st++) {
        PyObject *v = PyObject_GetItem(start_p, letters[st]);
        if (v == NULL)
            goto done;
        int bad = read_prob(v, "start_p", STATE_LETTERS[st], &sg->start[st]);
        Py_DECREF(v);
        if (bad)
            goto done;

        PyObject *row = state_row(trans_p, letters[st], "trans_p");
        if (row == NULL)
            goto done;
        for (int to = 0; to < N_STATES; to++) {
            PyObject *p = PyDict_GetItemWithError(row, letters[to]); /* borrowed */
            if (p == NULL && PyErr_Occurred()) {
                Py_DECREF(row);
                goto done;
            }
            sg->trans[st][to] = min_float; /* trans_p[y0].get(y, MIN_FLOAT) */
            if (p != NULL && read_prob(p, "trans_p", STATE_LETTERS[st], &sg->trans[st][to]) < 0) {
                Py_DECREF(row);
                goto done;
            }
        }
        Py_DECREF(row);

        row = state_row(emit_p, letters[st], "emit_p");
        if (row == NULL)
            goto done;
        bad = load_emit_row(sg, st, row);
        Py_DECREF(row);
        if (bad)
            goto done;
    }
    rc = 0;
done:
    for (int st = 0; st < N_STATES; st++)
        Py_XDECREF(letters[st]);
    return rc;
}

/* Segmenter(freq, total, start_p, trans_p, emit_p, force_split, min_float=-3.14e100). */
static PyObject *
Segmenter_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"freq",   "total",       "start_p",   "trans_p",
                             "emit_p", "force_split", "min_float", NULL};
    PyObject *freq, *total, *start_p, *trans_p, *emit_p, *force, *min_float = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!OOOOO|O!:Segmenter", kwlist, &PyDict_Type,
                                     &freq, &total, &start_p, &trans_p, &emit_p, &force,
                                     &PyFloat_Type, &min_float))
        return NULL;
    SegmenterObject *sg = (SegmenterObject *)type->tp_alloc(type, 0); /* zero-filled */
    if (sg == NULL)
        return NULL;
    double mf = min_float != NULL ? PyFloat_AS_DOUBLE(min_float) : DEFAULT_MIN_FLOAT;
    if (load_hmm(sg, start_p, trans_p, emit_p, mf) < 0 || load_trie(sg, freq, total, force) < 0) {
        Py_DECREF(sg); /* Segmenter_dealloc frees what was allocated */
        return NULL;
    }
    return (PyObject *)sg;
}

/* Frees the tables. */
static void
Segmenter_dealloc(SegmenterObject *sg)
{
    PyMem_Free(sg->slots);
    PyMem_Free(sg->emit);
    Py_TYPE(sg)->tp_free((PyObject *)sg);
}

/* ---- segmentation ------------------------------------------------------------------------ */

/* Doubles the span array; sets w->failed when memory runs out. */
static void
grow_spans(Work *w)
{
    Py_ssize_t cap = w->cap_spans * 2;
    Py_ssize_t *spans = PyMem_Resize(w->spans, Py_ssize_t, (size_t)cap * 2);
    if (spans == NULL) {
        w->failed = 1;
        return;
    }
    w->spans = spans;
    w->cap_spans = cap;
}

/* Records the token s[a:b]. */
static inline void
push(Work *w, Py_ssize_t a, Py_ssize_t b)
{
    if (w->n_spans == w->cap_spans) {
        grow_spans(w); /* tokens partition the text, so n slots suffice; this is a safety net */
        if (w->failed)
            return;
    }
    w->spans[2 * w->n_spans] = a;
    w->spans[2 * w->n_spans + 1] = b;
    w->n_spans++;
}

/* Records s[a:b] one char per token. */
static void
push_chars(Work *w, Py_ssize_t a, Py_ssize_t b)
{
    for (Py_ssize_t i = a; i < b; i++)
        push(w, i, i + 1);
}

/* True for the chars of re_han_default: [\u4E00-\u9FD5a-zA-Z0-9+#&\._%\-]. */
static inline int
is_block_char(Py_UCS4 c)
{
    if (c >= 0x80)
        return c >= HAN_LO && c <= HAN_HI;
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '#' || c == '&' || c == '.' || c == '_' || c == '%' || c == '-';
}

/* True for finalseg.re_han's chars: [\u4E00-\u9FD5]. */
static inline int
is_hmm_char(Py_UCS4 c)
{
    return c >= HAN_LO && c <= HAN_HI;
}

/* [a-zA-Z0-9] of finalseg.re_skip. */
static inline int
is_ascii_alnum(Py_UCS4 c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* \d of finalseg.re_skip: its input holds only re_han_default chars, whose digits are ASCII. */
static inline int
is_digit(Py_UCS4 c)
{
    return c >= '0' && c <= '9';
}

/* A word from finalseg.__cut: whole, or char by char when in Force_Split_Words. */
static void
push_hmm_word(const SegmenterObject *sg, Work *w, Py_ssize_t a, Py_ssize_t b)
{
    if (sg->has_force && b - a > 1 && (key_flags(sg, w->s + a, b - a) & NODE_FORCE))
        push_chars(w, a, b);
    else
        push(w, a, b);
}

/* finalseg.__cut on the run s[r0:r1] of re_han chars: viterbi, then the B/M/E/S words. */
static void
hmm_cut(const SegmenterObject *sg, Work *w, Py_ssize_t r0, Py_ssize_t r1)
{
    const Py_UCS4 *obs = w->s + r0;
    const double *emit = sg->emit;
    unsigned char *back = w->back, *path = w->path;
    Py_ssize_t len = r1 - r0;
    double v[N_STATES], nv[N_STATES];

    for (int y = 0; y < N_STATES; y++)
        v[y] = sg->start[y] + emit[y * HAN_N + (obs[0] - HAN_LO)];
    for (Py_ssize_t t = 1; t < len; t++) {
        size_t c = obs[t] - HAN_LO;
        for (int y = 0; y < N_STATES; y++) {
            int a = PREV_STATES[y][0], b = PREV_STATES[y][1];
            double em = emit[y * HAN_N + c];
            double pa = v[a] + sg->trans[a][y] + em; /* (V + trans) + emit, as in Python */
            double pb = v[b] + sg->trans[b][y] + em;
            /* max([(pa, a), (pb, b)]): b wins with a higher prob, or an equal one and a
             * later letter. */
            if (pb > pa || (pb == pa && b > a)) {
                nv[y] = pb;
                back[t * N_STATES + y] = (unsigned char)b;
            }
            else {
                nv[y] = pa;
                back[t * N_STATES + y] = (unsigned char)a;
            }
        }
        memcpy(v, nv, sizeof v);
    }
    /* max((V[-1][y], y) for y in 'ES'): S wins ties, being the later letter. */
    path[len - 1] = v[ST_S] >= v[ST_E] ? ST_S : ST_E;
    for (Py_ssize_t t = len - 1; t > 0; t--)
        path[t - 1] = back[t * N_STATES + path[t]];

    Py_ssize_t begin = 0, next = 0;
    for (Py_ssize_t i = 0; i < len; i++) {
        switch (path[i]) {
        case ST_B:
            begin = i;
            break;
        case ST_E:
            push_hmm_word(sg, w, r0 + begin, r0 + i + 1);
            next = i + 1;
            break;
        case ST_S:
            push(w, r0 + i, r0 + i + 1);
            next = i + 1;
            break;
        default: /* ST_M */
            break;
        }
    }
    if (next < len)
        push_hmm_word(sg, w, r0 + next, r1);
}

/* re_skip.split on s[p0:p1] (no re_han chars), keeping the non-empty parts, as finalseg.cut. */
static void
skip_split(Work *w, Py_ssize_t p0, Py_ssize_t p1)
{
    const Py_UCS4 *s = w->s;
    Py_ssize_t p = p0;
    while (p < p1) {
        /* [a-zA-Z0-9]+(?:\.\d+)?%? : every part after the first is optional and greedy. */
        Py_ssize_t m = p;
        while (m < p1 && !is_ascii_alnum(s[m]))
            m++;
        if (m > p)
            push(w, p, m); /* the text between matches */
        if (m == p1)
            break;
        Py_ssize_t e = m + 1;
        while (e < p1 && is_ascii_alnum(s[e]))
            e++;
        if (e + 1 < p1 && s[e] == '.' && is_digit(s[e + 1])) {
            e += 2;
            while (e < p1 && is_digit(s[e]))
                e++;
        }
        if (e < p1 && s[e] == '%')
            e++;
        push(w, m, e);
        p = e;
    }
}

/* finalseg.cut on s[a:b]: HMM on re_han runs, re_skip.split on what lies between. */
static void
hmm_segment(const SegmenterObject *sg, Work *w, Py_ssize_t a, Py_ssize_t b)
{
    const Py_UCS4 *s = w->s;
    Py_ssize_t p = a;
    while (p < b) {
        Py_ssize_t q = p + 1;
        if (is_hmm_char(s[p])) {
            while (q < b && is_hmm_char(s[q]))
                q++;
            hmm_cut(sg, w, p, q);
        }
        else {
            while (q < b && !is_hmm_char(s[q]))
                q++;
            skip_split(w, p, q);
        }
        p = q;
    }
}

/* __cut_DAG's handling of a buffer s[a:b] of single-char words. */
static void
flush_buffer(const SegmenterObject *sg, Work *w, Py_ssize_t a, Py_ssize_t b)
{
    if (b - a == 1)
        push(w, a, b);
    else if (!(key_flags(sg, w->s + a, b - a) & NODE_WORD)) /* not FREQ.get(buf) */
        hmm_segment(sg, w, a, b);
    else
        push_chars(w, a, b);
}

/* The child of node labelled c when its key is in FREQ (get_DAG's `frag in FREQ`), else ROOT. */
static inline size_t
freq_child(const SegmenterObject *sg, size_t node, Py_UCS4 c)
{
    node = child_of(sg, node, c);
    return node != ROOT && (flags_of(sg, node) & NODE_IN_FREQ) ? node : ROOT;
}

/* Tokenizer.__cut_DAG on the re_han_default block s[b0:b1]: get_DAG and calc, then the walk. */
static void
cut_block(const SegmenterObject *sg, Work *w, Py_ssize_t b0, Py_ssize_t b1)
{
    const Py_UCS4 *s = w->s;
    double *rp = w->route_p;
    Py_ssize_t *rx = w->route_x;

    /* calc from the end, walking get_DAG's list for k (ascending x) as it goes. */
    rp[b1] = 0.0;
    for (Py_ssize_t k = b1 - 1; k >= b0; k--) {
        double best = 0.0;
        Py_ssize_t best_x = -1;
        size_t node = freq_child(sg, ROOT, s[k]); /* the node of s[k:i+1], in FREQ */
        for (Py_ssize_t i = k; node != ROOT;) {
            const Slot *sl = &sg->slots[node - 1];
            if ((sl->key >> FLAG_SHIFT) & NODE_WORD) {
                double p = sl->weight + rp[i + 1];
                /* max over (p, x) tuples with x ascending: equal p goes to the larger x. */
                if (best_x < 0 || p >= best) {
                    best = p;
                    best_x = i;
                }
            }
            if (++i == b1)
                break;
            node = freq_child(sg, node, s[i]);
        }
        if (best_x < 0) { /* DAG[k] = [k] */
            best = sg->single_weight + rp[k + 1];
            best_x = k;
        }
        rp[k] = best;
        rx[k] = best_x;
    }

    Py_ssize_t x = b0, buf = -1; /* buf: start of the pending single-char run, -1 if none */
    while (x < b1) {
        Py_ssize_t y = rx[x] + 1;
        if (y - x == 1) {
            if (buf < 0)
                buf = x;
        }
        else {
            if (buf >= 0) {
                flush_buffer(sg, w, buf, x);
                buf = -1;
            }
            push(w, x, y);
        }
        x = y;
    }
    if (buf >= 0)
        flush_buffer(sg, w, buf, b1);
}

/* Tokenizer.cut: re_han_default blocks go to cut_block, every other char is its own token
 * except "\r\n", which re_skip_default keeps together. */
static void
segment(const SegmenterObject *sg, Work *w, Py_ssize_t n)
{
    const Py_UCS4 *s = w->s;
    Py_ssize_t i = 0;
    while (i < n && !w->failed) {
        if (is_block_char(s[i])) {
            Py_ssize_t j = i + 1;
            while (j < n && is_block_char(s[j]))
                j++;
            cut_block(sg, w, i, j);
            i = j;
        }
        else if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') {
            push(w, i, i + 2);
            i += 2;
        }
        else {
            push(w, i, i + 1);
            i++;
        }
    }
}

/* Segmenter.cut(text) -> list[str], equal to jieba's Tokenizer.lcut(text). */
static PyObject *
Segmenter_cut(SegmenterObject *sg, PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "cut() argument must be str, not %.100s",
                     Py_TYPE(text)->tp_name);
        return NULL;
    }
    if (STR_READY(text) < 0)
        return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (n == 0)
        return PyList_New(0);
    if (n > PY_SSIZE_T_MAX / 64)
        return PyErr_NoMemory();

    /* One block for the fixed-size scratch, widest element types first for alignment. */
    size_t size = (size_t)(n + 1) * (sizeof(double) + sizeof(Py_ssize_t)) +
                  (size_t)n * (sizeof(Py_UCS4) + N_STATES + 1);
    char *block = PyMem_Malloc(size);
    Work w = {0};
    w.cap_spans = n;
    w.spans = PyMem_New(Py_ssize_t, (size_t)n * 2);
    if (block == NULL || w.spans == NULL) {
        PyMem_Free(block);
        PyMem_Free(w.spans);
        return PyErr_NoMemory();
    }
    w.route_p = (double *)block;
    w.route_x = (Py_ssize_t *)(w.route_p + n + 1);
    w.s = (Py_UCS4 *)(w.route_x + n + 1);
    w.back = (unsigned char *)(w.s + n);
    w.path = w.back + (size_t)n * N_STATES;

    PyObject *list = NULL;
    if (PyUnicode_AsUCS4(text, w.s, n, 0) == NULL)
        goto done;
    segment(sg, &w, n);
    if (w.failed) {
        PyErr_NoMemory();
        goto done;
    }
    list = PyList_New(w.n_spans);
    if (list == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < w.n_spans; i++) {
        PyObject *tok = PyUnicode_Substring(text, w.spans[2 * i], w.spans[2 * i + 1]);
        if (tok == NULL) {
            Py_CLEAR(list);
            goto done;
        }
        PyList_SET_ITEM(list, i, tok);
    }
done:
    PyMem_Free(block);
    PyMem_Free(w.spans);
    return list;
}

/* ---- module ------------------------------------------------------------------------------ */

static PyMethodDef Segmenter_methods[] = {
    {"cut", (PyCFunction)Segmenter_cut, METH_O,
     "cut(text) -> list[str]: jieba's Tokenizer.lcut(text), cut_all=False, HMM=True."},
    {NULL, NULL, 0, NULL},
};

PyDoc_STRVAR(Segmenter_doc,
             "Segmenter(freq, total, start_p, trans_p, emit_p, force_split, min_float=-3.14e100)\n"
             "\n"
             "jieba accurate-mode segmentation (HMM on) over a copy of a Tokenizer's FREQ and\n"
             "total and jieba.finalseg's start_P, trans_P, emit_P, Force_Split_Words and\n"
             "MIN_FLOAT. Rebuild it whenever any of those change.");

static PyTypeObject SegmenterType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "classifier._jiebacut.Segmenter",
    .tp_basicsize = sizeof(SegmenterObject),
    .tp_dealloc = (destructor)Segmenter_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = Segmenter_doc,
    .tp_methods = Segmenter_methods,
    .tp_new = Segmenter_new,
};

static struct PyModuleDef jiebacut_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "classifier._jiebacut",
    .m_doc = "Exact C port of jieba 0.42.1 accurate-mode segmentation (Tokenizer.lcut).",
    .m_size = -1,
};

PyMODINIT_FUNC
PyInit__jiebacut(void)
{
    if (PyType_Ready(&SegmenterType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&jiebacut_module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "Segmenter", (PyObject *)&SegmenterType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
