/*
 * jianguan.contracts._wire: one pass over a serialized jianguan.v1.EventBatch, driven by tables
 * that Python builds from the contract's descriptors (jianguan.contracts.wire).
 *
 * Fast paths with the Python code as the reference:
 *  - scan():    the ingest paths learn, per event, whether it certainly satisfies every rule
 *               ("clean") or must be judged by the Python validator ("suspect"), plus the
 *               envelope values admission needs. The scanner may call a valid event suspect,
 *               never an invalid event clean. None means "judge the whole batch in Python".
 *  - events():  the body kind and the encoded bytes of each event, for routing.
 *  - native_block(): the event store's rows in ClickHouse's native column encoding, or the
 *               record refused (nothing added) when it is not plainly encoded and Python must
 *               decode it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* Field types (T_), rules (F_), envelope roles (R_), column conversions (C_), ClickHouse
 * encodings (CT_) and value sources (S_): shared with wire.py, generated from Python. */
#include "_wire_constants.h"

#define MAX_FIELD 63
#define MAX_COLUMNS 128
#define MAX_AUX 8
#define MAX_DEPTH 8

typedef struct {
    uint8_t type, role, conv;
    uint16_t flags;
    uint32_t max_len;
    uint64_t max_value;
    uint8_t enum_ok[256];
    int sub, kind, column, aux;
} Field;

typedef struct {
    int maxnum;
    uint64_t required;
    Field *fields; /* indexed by field number, 0..maxnum; type 0 = unknown */
} Msg;

typedef struct {
    PyObject_HEAD
    int nmsgs, ncolumns, naux;
    Msg *msgs;
    uint64_t versions;               /* supported schema versions, bit per version < 64 */
    PyObject *defaults;              /* tuple: per column default object */
    int aux_column[MAX_AUX];         /* APPEND slot -> column, in the order slots combine */
    uint8_t ctype[MAX_COLUMNS];      /* ClickHouse encoding per column (CT_*); 0: no blocks */
    uint8_t csource[MAX_COLUMNS];    /* where a column's value comes from (S_*) */
} Schema;


/* A growable byte buffer. */
typedef struct {
    uint8_t *p;
    size_t n, cap;
} Buf;

static int buf_reserve(Buf *b, size_t more) {
    if (b->n + more <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + more) cap *= 2;
    uint8_t *p = PyMem_Realloc(b->p, cap);
    if (p == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

static int buf_put(Buf *b, const void *src, size_t n) {
    if (buf_reserve(b, n) < 0) return -1;
    memcpy(b->p + b->n, src, n);
    b->n += n;
    return 0;
}

static int buf_varint(Buf *b, uint64_t v) {
    uint8_t tmp[10];
    int k = 0;
    while (v >= 0x80) {
        tmp[k++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[k++] = (uint8_t)v;
    return buf_put(b, tmp, (size_t)k);
}

static int buf_string(Buf *b, const uint8_t *p, Py_ssize_t n) {
    if (buf_varint(b, (uint64_t)n) < 0) return -1;
    return n ? buf_put(b, p, (size_t)n) : 0;
}

/* little-endian fixed width (x86-64 and aarch64 are little-endian; checked at import) */
static int buf_uint(Buf *b, uint64_t v, int width) { return buf_put(b, &v, (size_t)width); }

/* One event's values while it is parsed for a native block. */
typedef struct {
    const uint8_t *p[MAX_COLUMNS];
    Py_ssize_t n[MAX_COLUMNS];
    uint64_t u[MAX_COLUMNS];
    float f[MAX_COLUMNS];
    uint8_t set[MAX_COLUMNS];
    uint8_t hex[MAX_COLUMNS];    /* bytes written as lowercase hex */
    uint64_t items[MAX_COLUMNS]; /* array elements appended for this row */
    const uint8_t *aux_p[MAX_AUX];
    Py_ssize_t aux_n[MAX_AUX];
    Buf *nested;                 /* per column: array elements (the block's own buffers) */
} NativeRow;

/* What parsing one event found. */
typedef struct {
    const Schema *s;
    PyObject **row;       /* column values being built; NULL when not collecting */
    PyObject **aux;       /* APPEND slots */
    NativeRow *nat;       /* raw values for a native block; NULL when not building one */
    const uint8_t *event_id, *service_id, *provider_id;
    Py_ssize_t event_id_len, service_id_len, provider_id_len, prev_hash_len;
    uint64_t sequence, schema_version;
    int64_t seconds, nanos;
    int kind, suspect, odd, failed;
} Ev;

static const uint8_t *read_varint(const uint8_t *p, const uint8_t *end, uint64_t *out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 70 && p < end; shift += 7) {
        uint8_t b = *p++;
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return p;
        }
    }
    return NULL;
}

/* Strict UTF-8 (no overlongs, surrogates or code points above U+10FFFF), as protobuf requires
 * of proto3 strings. Returns the number of code points, or -1. */
static Py_ssize_t utf8_chars(const uint8_t *p, Py_ssize_t n) {
    Py_ssize_t chars = 0, i = 0;
    while (i < n) {
        uint8_t c = p[i];
        if (c < 0x80) {
            i++;
        } else if (c >= 0xC2 && c <= 0xDF) {
            if (i + 1 >= n || (p[i + 1] & 0xC0) != 0x80) return -1;
            i += 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            if (i + 2 >= n || (p[i + 1] & 0xC0) != 0x80 || (p[i + 2] & 0xC0) != 0x80) return -1;
            if (c == 0xE0 && p[i + 1] < 0xA0) return -1;
            if (c == 0xED && p[i + 1] > 0x9F) return -1;
            i += 3;
        } else if (c >= 0xF0 && c <= 0xF4) {
            if (i + 3 >= n || (p[i + 1] & 0xC0) != 0x80 || (p[i + 2] & 0xC0) != 0x80 ||
                (p[i + 3] & 0xC0) != 0x80)
                return -1;
            if (c == 0xF0 && p[i + 1] < 0x90) return -1;
            if (c == 0xF4 && p[i + 1] > 0x8F) return -1;
            i += 4;
        } else {
            return -1;
        }
        chars++;
    }
    return chars;
}

static int is_ident_byte(uint8_t c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == ':' || c == '/' || c == '-';
}


static int is_alnum(uint8_t c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int in_run(uint8_t c) {
    return (c >= '0' && c <= '9') || c == ' ' || c == '-' || c == '.';
}

/* The code points (beyond ASCII) whose NFKC form holds an ASCII digit or '@': full-width digits
 * and '＠', super- and subscripts, circled and parenthesised numbers, fractions, unit symbols,
 * mathematical digits. tests/unit/test_minimisation.py enumerates every Unicode code point to
 * hold this list to unicodedata's NFKC (the Python scan normalises before it looks). */
static const uint32_t NFKC_DIGIT_OR_AT[][2] = {
    {0xB2, 0xB3},       {0xB9, 0xB9},       {0xBC, 0xBE},       {0x2070, 0x2070},
    {0x2074, 0x2079},   {0x2080, 0x2089},   {0x2150, 0x215F},   {0x2189, 0x2189},
    {0x2460, 0x249B},   {0x24EA, 0x24EA},   {0x3251, 0x325F},   {0x32B1, 0x32CB},
    {0x3358, 0x3370},   {0x3378, 0x3379},   {0x339F, 0x33A6},   {0x33A8, 0x33A8},
    {0x33AF, 0x33AF},   {0x33E0, 0x33FE},   {0xFE6B, 0xFE6B},   {0xFF10, 0xFF19},
    {0xFF20, 0xFF20},   {0x1D7CE, 0x1D7FF}, {0x1F100, 0x1F10A}, {0x1FBF0, 0x1FBF9},
};

/* Of a valid UTF-8 sequence starting at p[i] (non-ASCII): its code point; *len its bytes. */
static uint32_t code_point(const uint8_t *p, Py_ssize_t i, Py_ssize_t *len) {
    uint8_t c = p[i];
    if (c < 0xE0) {
        *len = 2;
        return ((uint32_t)(c & 0x1F) << 6) | (p[i + 1] & 0x3F);
    }
    if (c < 0xF0) {
        *len = 3;
        return ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(p[i + 1] & 0x3F) << 6) | (p[i + 2] & 0x3F);
    }
    *len = 4;
    return ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(p[i + 1] & 0x3F) << 12) |
           ((uint32_t)(p[i + 2] & 0x3F) << 6) | (p[i + 3] & 0x3F);
}

/* Binary search of the sorted ranges: this runs for every non-ASCII character of every
 * scanned text (Chinese text is mostly that), and nearly all of them are in no range. */
static int nfkc_digit_or_at(uint32_t cp) {
    size_t lo = 0, hi = sizeof NFKC_DIGIT_OR_AT / sizeof NFKC_DIGIT_OR_AT[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < NFKC_DIGIT_OR_AT[mid][0])
            hi = mid;
        else if (cp > NFKC_DIGIT_OR_AT[mid][1])
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

/* Could the text hold raw personal information? A superset of the Python scan's own
 * pre-filter (jianguan.domain.minimisation, which looks at the NFKC form): an '@', a digit not
 * preceded by a letter or digit that starts eleven characters of digits, spaces, dashes or
 * dots, or any character whose NFKC form holds a digit or '@'. Called on valid UTF-8 only. */
static int maybe_personal(const uint8_t *p, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c == '@') return 1;
        if (c >= 0x80) {
            Py_ssize_t len;
            if (nfkc_digit_or_at(code_point(p, i, &len))) return 1;
            i += len - 1;
            continue;
        }
        if (c >= '0' && c <= '9' && (i == 0 || !is_alnum(p[i - 1])) && i + 11 <= n) {
            Py_ssize_t k = 1;
            while (k < 11 && in_run(p[i + k])) k++;
            if (k == 11) return 1;
        }
    }
    return 0;
}

static const uint8_t *skip_field(const uint8_t *p, const uint8_t *end, int wt) {
    uint64_t n;
    switch (wt) {
    case 0: return read_varint(p, end, &n);
    case 1: return (end - p >= 8) ? p + 8 : NULL;
    case 5: return (end - p >= 4) ? p + 4 : NULL;
    case 2:
        p = read_varint(p, end, &n);
        if (p == NULL || n > (uint64_t)(end - p)) return NULL;
        return p + n;
    default: return NULL; /* groups are not part of this contract */
    }
}

/* Set a column (last value wins, as in protobuf). Steals ``value``. */
static int put(Ev *ev, int column, PyObject *value) {
    if (value == NULL) return -1;
    Py_XSETREF(ev->row[column], value);
    return 0;
}

static int append_to(Ev *ev, int column, PyObject *value) {
    if (value == NULL) return -1;
    PyObject *list = ev->row[column];
    if (list == NULL) {
        list = ev->row[column] = PyList_New(0);
        if (list == NULL) {
            Py_DECREF(value);
            return -1;
        }
    }
    int rc = PyList_Append(list, value);
    Py_DECREF(value);
    return rc;
}

static PyObject *hex_of(const uint8_t *p, Py_ssize_t n) {
    static const char digits[] = "0123456789abcdef";
    PyObject *s = PyUnicode_New(n * 2, 127);
    if (s == NULL) return NULL;
    Py_UCS1 *out = PyUnicode_1BYTE_DATA(s);
    for (Py_ssize_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    return s;
}

static int length_field(Ev *ev, const Field *f, const uint8_t *p, Py_ssize_t n) {
    if (f->type == T_STRING) {
        Py_ssize_t chars = utf8_chars(p, n);
        if (chars < 0) {
            ev->failed = 1; /* protobuf refuses the whole message */
            return 0;
        }
        if (f->max_len && chars > (Py_ssize_t)f->max_len) ev->suspect = 1;
        if (f->flags & F_IDENT) {
            if (n == 0 && (f->flags & F_REPEATED)) ev->suspect = 1; /* an item must be an id */
            for (Py_ssize_t i = 0; i < n; i++)
                if (!is_ident_byte(p[i])) {
                    ev->suspect = 1;
                    break;
                }
        }
        if ((f->flags & F_PI) && maybe_personal(p, n)) ev->suspect = 1;
        if ((f->flags & F_COUNTRY) && n != 0 &&
            !(n == 2 && p[0] >= 'A' && p[0] <= 'Z' && p[1] >= 'A' && p[1] <= 'Z'))
            ev->suspect = 1;
    } else if (f->max_len && n > (Py_ssize_t)f->max_len) {
        ev->suspect = 1;
    }
    switch (f->role) {
    case R_EVENT_ID: ev->event_id = p; ev->event_id_len = n; break;
    case R_SERVICE_ID: ev->service_id = p; ev->service_id_len = n; break;
    case R_PROVIDER_ID: ev->provider_id = p; ev->provider_id_len = n; break;
    case R_PREV_HASH: ev->prev_hash_len = n; break;
    default: break;
    }
    if (ev->nat != NULL && f->conv != C_NONE) {
        NativeRow *r = ev->nat;
        int c = f->column;
        if (f->conv == C_APPEND) {
            r->aux_p[f->aux] = p;
            r->aux_n[f->aux] = n;
        } else if (f->conv == C_LIST) {
            if (ev->s->ctype[c] != CT_ARR_STRING) {
                ev->odd = 1;
                return 0;
            }
            if (buf_string(&r->nested[c], p, n) < 0) return -1;
            r->items[c]++;
        } else {
            r->p[c] = p;
            r->n[c] = n;
            r->set[c] = 1;
            r->hex[c] = f->conv == C_HEX;
        }
        return 0;
    }
    if (ev->row == NULL || f->conv == C_NONE) return 0;
    PyObject *v;
    if (f->conv == C_HEX) return put(ev, f->column, hex_of(p, n));
    if (f->type == T_STRING) v = PyUnicode_DecodeUTF8((const char *)p, n, NULL);
    else v = PyBytes_FromStringAndSize((const char *)p, n);
    if (v == NULL) return -1;
    if (f->conv == C_VALUE) return put(ev, f->column, v);
    if (f->conv == C_LIST) return append_to(ev, f->column, v);
    /* C_APPEND: a scalar that joins an array column when non-empty; combined in slot order. */
    Py_XSETREF(ev->aux[f->aux], v);
    return 0;
}

static int scalar_field(Ev *ev, const Field *f, uint64_t raw, double real) {
    uint64_t v = raw;
    int64_t sv = (int64_t)raw;
    switch (f->type) {
    case T_ENUM:
        /* protobuf reads enums as int32: anything else is for the Python path to judge */
        if (raw >= 256 || !f->enum_ok[raw]) ev->suspect = 1;
        if (raw > 0x7FFFFFFFull) ev->odd = 1;
        break;
    case T_UINT32:
        if (raw > 0xFFFFFFFFull) ev->odd = 1; /* protobuf truncates; let it */
        break;
    case T_INT32:
        if (sv < INT32_MIN || sv > INT32_MAX) ev->odd = 1;
        break;
    case T_BOOL: v = raw != 0; break;
    case T_FLOAT:
        if ((f->flags & F_UNIT) && !(isfinite(real) && real >= 0.0 && real <= 1.0))
            ev->suspect = 1;
        break;
    default: break;
    }
    if ((f->flags & F_MAX) && raw > f->max_value) ev->suspect = 1;
    if ((f->flags & F_NANOS) && (sv < 0 || sv >= 1000000000)) ev->suspect = 1;
    switch (f->role) {
    case R_SEQUENCE: ev->sequence = raw; break;
    case R_SCHEMA_VERSION: ev->schema_version = raw; break;
    case R_SECONDS: ev->seconds = sv; break;
    case R_NANOS: ev->nanos = sv; break;
    default: break;
    }
    if (ev->nat != NULL && f->conv != C_NONE) {
        NativeRow *r = ev->nat;
        int c = f->column;
        if (f->conv == C_LIST) {
            uint8_t byte = (uint8_t)v;
            if (ev->s->ctype[c] != CT_ARR_U8 || v > 255) {
                ev->odd = 1;
                return 0;
            }
            if (buf_put(&r->nested[c], &byte, 1) < 0) return -1;
            r->items[c]++;
        } else {
            r->u[c] = (f->type == T_INT64 || f->type == T_INT32) ? (uint64_t)sv : v;
            r->f[c] = (float)real;
            r->set[c] = 1;
            if ((f->type == T_INT64 || f->type == T_INT32) && sv < 0) ev->odd = 1;
        }
        return 0;
    }
    if (ev->row == NULL || f->conv == C_NONE) return 0;
    PyObject *o;
    if (f->type == T_FLOAT) o = PyFloat_FromDouble(real);
    else if (f->type == T_INT64 || f->type == T_INT32) o = PyLong_FromLongLong(sv);
    else o = PyLong_FromUnsignedLongLong(v);
    if (f->conv == C_LIST) return append_to(ev, f->column, o);
    return put(ev, f->column, o);
}

static int parse_msg(Ev *ev, int mi, const uint8_t *p, const uint8_t *end, int depth) {
    const Msg *m = &ev->s->msgs[mi];
    uint64_t seen = 0, present = 0;
    if (depth > MAX_DEPTH) {
        ev->failed = 1;
        return 0;
    }
    while (p < end) {
        uint64_t tag, n;
        p = read_varint(p, end, &tag);
        if (p == NULL) goto broken;
        uint64_t num = tag >> 3;
        int wt = (int)(tag & 7);
        if (num == 0) goto broken;
        const Field *f = (num <= (uint64_t)m->maxnum && m->fields[num].type) ? &m->fields[num] : NULL;
        int want;
        if (f == NULL) {
            want = -1;
        } else if (f->type == T_STRING || f->type == T_BYTES || f->type == T_MESSAGE) {
            want = 2;
        } else if (f->type == T_FLOAT) {
            want = 5;
        } else {
            want = 0;
        }
        int packed = f != NULL && want == 0 && wt == 2 && (f->flags & F_REPEATED);
        if (f == NULL || (wt != want && !packed)) {
            ev->odd = 1; /* unknown field, or a known one with another wire type */
            p = skip_field(p, end, wt);
            if (p == NULL) goto broken;
            continue;
        }
        uint64_t bit = 1ull << num;
        if (!(f->flags & F_REPEATED)) {
            if (seen & bit) ev->odd = 1; /* protobuf merges repeats; plain encodings don't */
            seen |= bit;
        }
        if (wt == 2) {
            p = read_varint(p, end, &n);
            if (p == NULL || n > (uint64_t)(end - p)) goto broken;
            const uint8_t *data = p;
            p += n;
            if (packed) {
                const uint8_t *q = data;
                while (q < p) {
                    uint64_t v;
                    q = read_varint(q, p, &v);
                    if (q == NULL) goto broken;
                    if (v) present |= bit;
                    if (scalar_field(ev, f, v, 0.0) < 0) return -1;
                }
                continue;
            }
            if (f->type == T_MESSAGE) {
                present |= bit;
                if (f->role == R_BODY) {
                    if (ev->kind && ev->kind != f->kind) ev->odd = 1; /* two oneof members */
                    ev->kind = f->kind;
                }
                if (parse_msg(ev, f->sub, data, p, depth + 1) < 0) return -1;
                if (ev->failed) return 0;
                continue;
            }
            if (n) present |= bit;
            if (length_field(ev, f, data, (Py_ssize_t)n) < 0) return -1;
            if (ev->failed) return 0;
        } else if (wt == 5) {
            if (end - p < 4) goto broken;
            float x;
            memcpy(&x, p, 4);
            p += 4;
            if (x != 0.0f) present |= bit;
            if (scalar_field(ev, f, 0, (double)x) < 0) return -1;
        } else {
            uint64_t v;
            p = read_varint(p, end, &v);
            if (p == NULL) goto broken;
            if (v) present |= bit;
            if (scalar_field(ev, f, v, 0.0) < 0) return -1;
        }
    }
    if ((present & m->required) != m->required) ev->suspect = 1;
    return 0;
broken:
    ev->failed = 1;
    return 0;
}

/* The envelope's own rules (timestamps, hash-chain shape, schema version) for the scan. */
typedef struct {
    double now, max_future, max_age;
    Py_ssize_t max_event_bytes;
} Limits;

static void judge_envelope(Ev *ev, const Schema *s, const Limits *lim, Py_ssize_t size) {
    if (size > lim->max_event_bytes || ev->kind == 0 || ev->event_id == NULL ||
        ev->service_id == NULL)
        ev->suspect = 1;
    if (ev->schema_version >= 64 || !(s->versions & (1ull << ev->schema_version)))
        ev->suspect = 1;
    double occurred = (double)ev->seconds + (double)ev->nanos / 1e9;
    /* a second of margin: borderline times are judged by the reference */
    if (occurred > lim->now + lim->max_future - 1.0 || occurred < lim->now - lim->max_age + 1.0)
        ev->suspect = 1;
    if (ev->sequence > 1 && ev->prev_hash_len != 32) ev->suspect = 1;
    if (ev->sequence == 1 && ev->prev_hash_len != 0 && ev->prev_hash_len != 32) ev->suspect = 1;
}

/* Walks the outer EventBatch: field 1 batch_id, field 2 events. Anything else: not plain. */
typedef struct {
    const uint8_t *p, *end, *batch_id;
    Py_ssize_t batch_id_len;
} Outer;

/* Next event (its bytes in ev_p, ev_n): 1, end: 0, not plain: -1. */
static int next_event(Outer *o, const uint8_t **ev_p, Py_ssize_t *ev_n) {
    while (o->p < o->end) {
        uint64_t tag, n;
        const uint8_t *p = read_varint(o->p, o->end, &tag);
        if (p == NULL || (tag != 0x0A && tag != 0x12)) return -1;
        p = read_varint(p, o->end, &n);
        if (p == NULL || n > (uint64_t)(o->end - p)) return -1;
        o->p = p + n;
        if (tag == 0x0A) {
            if (o->batch_id != NULL || utf8_chars(p, (Py_ssize_t)n) < 0) return -1;
            o->batch_id = p;
            o->batch_id_len = (Py_ssize_t)n;
            continue;
        }
        *ev_p = p;
        *ev_n = (Py_ssize_t)n;
        return 1;
    }
    return 0;
}

static PyObject *batch_id_of(const Outer *o) {
    if (o->batch_id == NULL) return PyUnicode_New(0, 0);
    return PyUnicode_DecodeUTF8((const char *)o->batch_id, o->batch_id_len, NULL);
}

/* The next event of the batch parsed into ``ev`` (which the caller sets up), its bytes in ep, en:
 * EV_OK; the end: EV_END; not plainly encoded (the batch, or this event): EV_NOT_PLAIN; an
 * exception is set: EV_ERROR. */
enum { EV_ERROR = -1, EV_END = 0, EV_OK = 1, EV_NOT_PLAIN = 2 };

static int parse_next(Outer *o, Ev *ev, const uint8_t **ep, Py_ssize_t *en) {
    int r = next_event(o, ep, en);
    if (r <= 0) return r < 0 ? EV_NOT_PLAIN : EV_END;
    if (parse_msg(ev, 0, *ep, *ep + *en, 0) < 0) return EV_ERROR;
    return ev->failed ? EV_NOT_PLAIN : EV_OK;
}

static PyObject *str_of(const uint8_t *p, Py_ssize_t n) {
    return PyUnicode_DecodeUTF8((const char *)(p ? p : (const uint8_t *)""), p ? n : 0, NULL);
}

static int add_int(PyObject *list, long long v) {
    PyObject *o = PyLong_FromLongLong(v);
    if (o == NULL) return -1;
    int rc = PyList_Append(list, o);
    Py_DECREF(o);
    return rc;
}

static int add_owned(PyObject *list, PyObject *o) {
    if (o == NULL) return -1;
    int rc = PyList_Append(list, o);
    Py_DECREF(o);
    return rc;
}

PyDoc_STRVAR(scan_doc,
"scan(raw, now_s, max_future_s, max_age_s, max_event_bytes)\n"
"-> (batch_id, event_ids, service_ids, named, suspects, starts, ends, newest_s) or None.\n\n"
"``named`` lists (index, provider_id) for events that name a provider; ``suspects`` the\n"
"indices the Python validator must judge; starts/ends the byte span of each event in raw.\n"
"None: the batch is not plainly encoded; judge it all in Python.");

static PyObject *Schema_scan(Schema *self, PyObject *args) {
    Py_buffer buf;
    Limits lim;
    if (!PyArg_ParseTuple(args, "y*dddn", &buf, &lim.now, &lim.max_future, &lim.max_age,
                          &lim.max_event_bytes))
        return NULL;
    PyObject *ids = PyList_New(0), *services = PyList_New(0), *named = PyList_New(0),
             *suspects = PyList_New(0), *starts = PyList_New(0), *ends = PyList_New(0);
    PyObject *result = NULL, *last_service = NULL;
    const uint8_t *base = buf.buf;
    Outer o = {base, base + buf.len, NULL, 0};
    int64_t newest = INT64_MIN;
    if (!ids || !services || !named || !suspects || !starts || !ends) goto done;
    for (Py_ssize_t i = 0;; i++) {
        const uint8_t *ep;
        Py_ssize_t en;
        Ev ev = {.s = self};
        int r = parse_next(&o, &ev, &ep, &en);
        if (r == EV_END) break;
        if (r == EV_ERROR) goto done;
        if (r == EV_NOT_PLAIN) {
            result = Py_NewRef(Py_None);
            goto done;
        }
        judge_envelope(&ev, self, &lim, en);
        if (ev.suspect || ev.odd) {
            if (add_int(suspects, i) < 0) goto done;
        }
        if (add_owned(ids, str_of(ev.event_id, ev.event_id_len)) < 0) goto done;
        /* one service per batch is the common case: share its str */
        if (last_service != NULL && ev.service_id != NULL &&
            PyUnicode_GET_LENGTH(last_service) == ev.service_id_len &&
            PyUnicode_IS_ASCII(last_service) &&
            memcmp(PyUnicode_1BYTE_DATA(last_service), ev.service_id, ev.service_id_len) == 0) {
            if (PyList_Append(services, last_service) < 0) goto done;
        } else {
            PyObject *svc = str_of(ev.service_id, ev.service_id_len);
            if (svc == NULL) goto done;
            Py_XSETREF(last_service, Py_NewRef(svc));
            if (add_owned(services, svc) < 0) goto done;
        }
        if (ev.provider_id_len > 0) {
            PyObject *pair = Py_BuildValue("(nN)", i, str_of(ev.provider_id, ev.provider_id_len));
            if (add_owned(named, pair) < 0) goto done;
        }
        if (add_int(starts, ep - base) < 0 || add_int(ends, ep - base + en) < 0) goto done;
        if (ev.seconds > newest) newest = ev.seconds;
    }
    {
        PyObject *bid = batch_id_of(&o);
        if (bid == NULL) goto done;
        result = Py_BuildValue("(NOOOOOOL)", bid, ids, services, named, suspects, starts, ends,
                               (long long)(newest == INT64_MIN ? 0 : newest));
    }
done:
    Py_XDECREF(last_service);
    Py_XDECREF(ids);
    Py_XDECREF(services);
    Py_XDECREF(named);
    Py_XDECREF(suspects);
    Py_XDECREF(starts);
    Py_XDECREF(ends);
    PyBuffer_Release(&buf);
    return result;
}

PyDoc_STRVAR(events_doc,
"events(raw) -> (batch_id, [(kind, event_bytes), ...]) or None when not plainly encoded.\n\n"
"kind is the body's code (0 when there is none).");

static PyObject *Schema_events(Schema *self, PyObject *args) {
    Py_buffer buf;
    if (!PyArg_ParseTuple(args, "y*", &buf)) return NULL;
    PyObject *out = PyList_New(0), *result = NULL;
    const uint8_t *base = buf.buf;
    Outer o = {base, base + buf.len, NULL, 0};
    if (out == NULL) goto done;
    for (;;) {
        const uint8_t *ep;
        Py_ssize_t en;
        Ev ev = {.s = self};
        int r = parse_next(&o, &ev, &ep, &en);
        if (r == EV_END) break;
        if (r == EV_ERROR) goto done;
        if (r == EV_NOT_PLAIN || ev.odd) {
            result = Py_NewRef(Py_None);
            goto done;
        }
        if (add_owned(out, Py_BuildValue("(iy#)", ev.kind, (const char *)ep, en)) < 0) goto done;
    }
    {
        PyObject *bid = batch_id_of(&o);
        if (bid != NULL) result = Py_BuildValue("(NO)", bid, out);
    }
done:
    Py_XDECREF(out);
    PyBuffer_Release(&buf);
    return result;
}

/* ---- native blocks: the event store's columns in ClickHouse's own encoding ----------------- */

typedef struct {
    PyObject_HEAD
    Schema *schema;
    Py_ssize_t rows;
    Buf data[MAX_COLUMNS];    /* values; for arrays, the cumulative offsets (UInt64) */
    Buf nested[MAX_COLUMNS];  /* array elements */
    uint64_t total[MAX_COLUMNS];
} NativeBlock;

static int put_width(Buf *b, uint64_t v, int ctype, int *fits) {
    switch (ctype) {
    case CT_U8: if (v > 0xFFu) *fits = 0; return buf_uint(b, v, 1);
    case CT_U16: if (v > 0xFFFFu) *fits = 0; return buf_uint(b, v, 2);
    case CT_U32: if (v > 0xFFFFFFFFu) *fits = 0; return buf_uint(b, v, 4);
    case CT_U64: return buf_uint(b, v, 8);
    default: *fits = 0; return 0;
    }
}

static int put_hex(Buf *b, const uint8_t *p, Py_ssize_t n) {
    static const char digits[] = "0123456789abcdef";
    if (buf_varint(b, (uint64_t)n * 2) < 0 || buf_reserve(b, (size_t)n * 2) < 0) return -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        b->p[b->n++] = (uint8_t)digits[p[i] >> 4];
        b->p[b->n++] = (uint8_t)digits[p[i] & 15];
    }
    return 0;
}

typedef struct {
    const uint8_t *provider, *event, *batch_id;
    Py_ssize_t provider_n, event_n, batch_id_n;
    uint64_t received, ingested, partition, offset;
    int kind;
} RowContext;

/* Appends one parsed event as a row. *fits turns 0 when a value does not fit its column. */
static int emit_row(NativeBlock *self, NativeRow *r, const RowContext *x, int *fits) {
    const Schema *s = self->schema;
    for (int c = 0; c < s->ncolumns; c++) {
        Buf *d = &self->data[c];
        int t = s->ctype[c], rc = 0;
        switch (s->csource[c]) {
        case S_KIND: rc = put_width(d, (uint64_t)x->kind, t, fits); break;
        case S_PAYLOAD: rc = buf_string(d, x->event, x->event_n); break;
        case S_PROVIDER: rc = buf_string(d, x->provider, x->provider_n); break;
        case S_BATCH: rc = buf_string(d, x->batch_id, x->batch_id_n); break;
        case S_RECEIVED: rc = put_width(d, x->received, t, fits); break;
        case S_INGESTED: rc = put_width(d, x->ingested, t, fits); break;
        case S_PARTITION: rc = put_width(d, x->partition, t, fits); break;
        case S_OFFSET: rc = put_width(d, x->offset, t, fits); break;
        default:
            if (t == CT_STRING) {
                if (!r->set[c]) rc = buf_varint(d, 0);
                else if (r->hex[c]) rc = put_hex(d, r->p[c], r->n[c]);
                else rc = buf_string(d, r->p[c], r->n[c]);
            } else if (t == CT_F32) {
                float v = r->set[c] ? r->f[c] : 0.0f;
                rc = buf_put(d, &v, 4);
            } else if (t == CT_ARR_STRING || t == CT_ARR_U8) {
                for (int a = 0; a < s->naux && rc == 0; a++) {
                    if (s->aux_column[a] == c && r->aux_p[a] != NULL && r->aux_n[a] > 0) {
                        rc = buf_string(&self->nested[c], r->aux_p[a], r->aux_n[a]);
                        r->items[c]++;
                    }
                }
                self->total[c] += r->items[c];
                if (rc == 0) rc = buf_uint(d, self->total[c], 8);
            } else {
                rc = put_width(d, r->set[c] ? r->u[c] : 0, t, fits);
            }
        }
        if (rc < 0) return -1;
    }
    self->rows++;
    return 0;
}

PyDoc_STRVAR(add_doc,
"add(raw, provider_id, received_s, ingested_s, partition, offset) -> rows appended, or None\n\n"
"Appends a record's events as rows. None, with nothing appended, when the record is not\n"
"plainly encoded or a value does not fit its column: decode it with protobuf instead.");

static PyObject *NativeBlock_add(NativeBlock *self, PyObject *args) {
    Py_buffer buf;
    const char *provider;
    Py_ssize_t provider_n;
    unsigned long long received, ingested, partition, offset;
    if (!PyArg_ParseTuple(args, "y*s#KKKK", &buf, &provider, &provider_n, &received, &ingested,
                          &partition, &offset))
        return NULL;
    Schema *s = self->schema;
    int nc = s->ncolumns;
    size_t data_n[MAX_COLUMNS], nested_n[MAX_COLUMNS];
    uint64_t total[MAX_COLUMNS];
    for (int c = 0; c < nc; c++) {
        data_n[c] = self->data[c].n;
        nested_n[c] = self->nested[c].n;
        total[c] = self->total[c];
    }
    Py_ssize_t rows_before = self->rows;
    const uint8_t *base = buf.buf;
    Outer o = {base, base + buf.len, NULL, 0};
    RowContext x = {(const uint8_t *)provider, NULL, NULL, provider_n, 0, 0,
                    received, ingested, partition, offset, 0};
    int plain = 1, first = 1, batch_first = 0, rc = 0;
    NativeRow *r = PyMem_Malloc(sizeof(NativeRow));
    if (r == NULL) {
        PyBuffer_Release(&buf);
        return PyErr_NoMemory();
    }
    r->nested = self->nested;
    for (;;) {
        const uint8_t *ep;
        Py_ssize_t en;
        memset(r->set, 0, sizeof r->set);
        memset(r->items, 0, sizeof r->items);
        memset(r->aux_p, 0, sizeof r->aux_p);
        Ev ev = {.s = s, .nat = r};
        int got = parse_next(&o, &ev, &ep, &en);
        if (got == EV_END) break;
        if (got == EV_ERROR) {
            rc = -1;
            break;
        }
        if (first) {
            batch_first = o.batch_id != NULL;
            first = 0;
        }
        if (got == EV_NOT_PLAIN || ev.odd || ev.kind == 0) {
            plain = 0;
            break;
        }
        x.event = ep;
        x.event_n = en;
        x.kind = ev.kind;
        x.batch_id = o.batch_id ? o.batch_id : (const uint8_t *)"";
        x.batch_id_n = o.batch_id ? o.batch_id_len : 0;
        rc = emit_row(self, r, &x, &plain);
        if (rc < 0 || !plain) break;
    }
    /* a batch id after the first event would have been missed by the rows before it */
    if (plain && rc == 0 && !first && o.batch_id != NULL && !batch_first) plain = 0;
    PyMem_Free(r);
    PyBuffer_Release(&buf);
    if (rc == 0 && plain) return PyLong_FromSsize_t(self->rows - rows_before);
    for (int c = 0; c < nc; c++) {
        self->data[c].n = data_n[c];
        self->nested[c].n = nested_n[c];
        self->total[c] = total[c];
    }
    self->rows = rows_before;
    if (rc < 0) return NULL;
    Py_RETURN_NONE;
}

PyDoc_STRVAR(encoded_doc,
"encoded() -> list of bytes: each column's data in ClickHouse's native encoding (for arrays,\n"
"the offsets then the elements), in the schema's column order.");

static PyObject *NativeBlock_encoded(NativeBlock *self, PyObject *Py_UNUSED(ignored)) {
    int nc = self->schema->ncolumns;
    PyObject *out = PyList_New(nc);
    if (out == NULL) return NULL;
    for (int c = 0; c < nc; c++) {
        Buf *d = &self->data[c], *e = &self->nested[c];
        PyObject *b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(d->n + e->n));
        if (b == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        char *dst = PyBytes_AS_STRING(b);
        if (d->n) memcpy(dst, d->p, d->n);
        if (e->n) memcpy(dst + d->n, e->p, e->n);
        PyList_SET_ITEM(out, c, b);
    }
    return out;
}

static PyObject *NativeBlock_rows(NativeBlock *self, void *Py_UNUSED(closure)) {
    return PyLong_FromSsize_t(self->rows);
}

static void NativeBlock_dealloc(NativeBlock *self) {
    for (int c = 0; c < MAX_COLUMNS; c++) {
        PyMem_Free(self->data[c].p);
        PyMem_Free(self->nested[c].p);
    }
    Py_XDECREF(self->schema);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef NativeBlock_methods[] = {
    {"add", (PyCFunction)NativeBlock_add, METH_VARARGS, add_doc},
    {"encoded", (PyCFunction)NativeBlock_encoded, METH_NOARGS, encoded_doc},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef NativeBlock_getset[] = {
    {"rows", (getter)NativeBlock_rows, NULL, "rows appended so far", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject NativeBlockType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "jianguan.contracts._wire.NativeBlock",
    .tp_doc = PyDoc_STR("Event-store rows in ClickHouse's native column encoding."),
    .tp_basicsize = sizeof(NativeBlock),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_dealloc = (destructor)NativeBlock_dealloc,
    .tp_methods = NativeBlock_methods,
    .tp_getset = NativeBlock_getset,
};

PyDoc_STRVAR(native_block_doc,
"native_block() -> NativeBlock: an empty block for this schema's columns.");

static PyObject *Schema_native_block(Schema *self, PyObject *Py_UNUSED(ignored)) {
    for (int c = 0; c < self->ncolumns; c++) {
        if (self->ctype[c] == CT_NONE) {
            PyErr_SetString(PyExc_ValueError, "the schema has no ClickHouse encoding per column");
            return NULL;
        }
    }
    NativeBlock *b = PyObject_New(NativeBlock, &NativeBlockType);
    if (b == NULL) return NULL;
    b->schema = (Schema *)Py_NewRef(self);
    b->rows = 0;
    memset(b->data, 0, sizeof b->data);
    memset(b->nested, 0, sizeof b->nested);
    memset(b->total, 0, sizeof b->total);
    return (PyObject *)b;
}

/* ---- construction from the tables built in Python ------------------------------------- */

static void Schema_dealloc(Schema *self) {
    if (self->msgs != NULL) {
        for (int i = 0; i < self->nmsgs; i++) PyMem_Free(self->msgs[i].fields);
        PyMem_Free(self->msgs);
    }
    Py_XDECREF(self->defaults);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int load_field(Field *f, PyObject *t, int nmsgs, int ncolumns, int *naux, int *aux_column) {
    Py_buffer ok;
    unsigned long long max_value;
    int type, role, conv, flags;
    unsigned int max_len;
    if (!PyArg_ParseTuple(t, "iiIKy*iiiii", &type, &flags, &max_len, &max_value, &ok, &f->sub,
                          &role, &f->kind, &f->column, &conv))
        return -1;
    f->type = (uint8_t)type;
    f->flags = (uint16_t)flags;
    f->role = (uint8_t)role;
    f->conv = (uint8_t)conv;
    f->max_len = max_len;
    f->max_value = max_value;
    memset(f->enum_ok, 0, sizeof f->enum_ok);
    memcpy(f->enum_ok, ok.buf, ok.len < 256 ? (size_t)ok.len : 256);
    PyBuffer_Release(&ok);
    if (type < T_STRING || type > T_MESSAGE || (type == T_MESSAGE && (f->sub < 0 || f->sub >= nmsgs))) {
        PyErr_SetString(PyExc_ValueError, "bad field type or message index");
        return -1;
    }
    if (conv != C_NONE && (f->column < 0 || f->column >= ncolumns)) {
        PyErr_SetString(PyExc_ValueError, "bad column index");
        return -1;
    }
    f->aux = -1;
    if (conv == C_APPEND) {
        if (*naux >= MAX_AUX) {
            PyErr_SetString(PyExc_ValueError, "too many appended fields");
            return -1;
        }
        f->aux = *naux;
        aux_column[(*naux)++] = f->column;
    }
    return 0;
}

static int Schema_init(Schema *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"messages", "versions", "defaults", "encodings", "sources", NULL};
    PyObject *messages, *defaults;
    unsigned long long versions;
    Py_buffer enc = {0}, src = {0};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!KO!|y*y*", kwlist, &PyList_Type, &messages,
                                     &versions, &PyTuple_Type, &defaults, &enc, &src))
        return -1;
    Py_ssize_t enc_n = enc.buf ? enc.len : 0, src_n = src.buf ? src.len : 0;
    memset(self->ctype, 0, sizeof self->ctype);
    memset(self->csource, 0, sizeof self->csource);
    if (enc_n && enc_n == PyTuple_GET_SIZE(defaults) && src_n == enc_n && enc_n <= MAX_COLUMNS) {
        memcpy(self->ctype, enc.buf, (size_t)enc_n);
        memcpy(self->csource, src.buf, (size_t)src_n);
    }
    if (enc.buf) PyBuffer_Release(&enc);
    if (src.buf) PyBuffer_Release(&src);
    if (enc_n != src_n || (enc_n && enc_n != PyTuple_GET_SIZE(defaults))) {
        PyErr_SetString(PyExc_ValueError, "encodings and sources need one byte per column");
        return -1;
    }
    if (self->msgs != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Schema is already initialised");
        return -1;
    }
    Py_ssize_t nm = PyList_GET_SIZE(messages), nc = PyTuple_GET_SIZE(defaults);
    if (nm < 1 || nc > MAX_COLUMNS) {
        PyErr_SetString(PyExc_ValueError, "need at least one message and at most 128 columns");
        return -1;
    }
    self->msgs = PyMem_Calloc((size_t)nm, sizeof(Msg));
    if (self->msgs == NULL) return -1;
    self->nmsgs = (int)nm;
    self->ncolumns = (int)nc;
    self->versions = versions;
    self->defaults = Py_NewRef(defaults);
    for (Py_ssize_t i = 0; i < nm; i++) {
        /* each message: list of (number, field tuple) */
        PyObject *fields = PyList_GET_ITEM(messages, i);
        if (!PyList_Check(fields)) {
            PyErr_SetString(PyExc_TypeError, "a message is a list of (number, field)");
            return -1;
        }
        Msg *m = &self->msgs[i];
        m->maxnum = MAX_FIELD;
        m->fields = PyMem_Calloc(MAX_FIELD + 1, sizeof(Field));
        if (m->fields == NULL) return -1;
        for (Py_ssize_t j = 0; j < PyList_GET_SIZE(fields); j++) {
            int num;
            PyObject *spec;
            if (!PyArg_ParseTuple(PyList_GET_ITEM(fields, j), "iO!", &num, &PyTuple_Type, &spec))
                return -1;
            if (num < 1 || num > MAX_FIELD) {
                PyErr_SetString(PyExc_ValueError, "field numbers above 63 are not supported");
                return -1;
            }
            Field *f = &m->fields[num];
            if (load_field(f, spec, (int)nm, (int)nc, &self->naux, self->aux_column) < 0)
                return -1;
            if (f->flags & F_REQUIRED) m->required |= 1ull << num;
        }
    }
    return 0;
}

static PyMethodDef Schema_methods[] = {
    {"scan", (PyCFunction)Schema_scan, METH_VARARGS, scan_doc},
    {"events", (PyCFunction)Schema_events, METH_VARARGS, events_doc},
    {"native_block", (PyCFunction)Schema_native_block, METH_NOARGS, native_block_doc},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject SchemaType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "jianguan.contracts._wire.Schema",
    .tp_doc = PyDoc_STR("Tables for one pass over EventBatch records (see jianguan.contracts.wire)."),
    .tp_basicsize = sizeof(Schema),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Schema_init,
    .tp_dealloc = (destructor)Schema_dealloc,
    .tp_methods = Schema_methods,
};

PyDoc_STRVAR(outline_doc,
"outline(raw) -> (batch_id, number of events), or None when raw is not a well-formed message\n\n"
"Reads only the top level of an EventBatch (the id, and the events' lengths): what refusing a\n"
"whole batch needs, at a fraction of the cost of a scan.");

static PyObject *wire_outline(PyObject *module, PyObject *args) {
    (void)module;
    Py_buffer buf;
    if (!PyArg_ParseTuple(args, "y*", &buf)) return NULL;
    const uint8_t *p = buf.buf, *end = p + buf.len, *id = NULL;
    uint64_t id_n = 0, count = 0;
    int ok = 1;
    while (p < end) {
        uint64_t tag, n;
        p = read_varint(p, end, &tag);
        if (p == NULL || (tag >> 3) == 0) {
            ok = 0;
            break;
        }
        int wt = (int)(tag & 7);
        if ((tag >> 3) <= 2 && wt == 2) {
            p = read_varint(p, end, &n);
            if (p == NULL || n > (uint64_t)(end - p)) {
                ok = 0;
                break;
            }
            if ((tag >> 3) == 1) {
                id = p;
                id_n = n;
            } else {
                count++;
            }
            p += n;
        } else {
            p = skip_field(p, end, wt);
            if (p == NULL) {
                ok = 0;
                break;
            }
        }
    }
    PyObject *result = NULL;
    if (!ok) {
        result = Py_NewRef(Py_None);
    } else {
        PyObject *text = PyUnicode_DecodeUTF8((const char *)(id ? id : (const uint8_t *)""),
                                              (Py_ssize_t)id_n, "replace");
        if (text != NULL) result = Py_BuildValue("(NK)", text, (unsigned long long)count);
    }
    PyBuffer_Release(&buf);
    return result;
}

static PyMethodDef wire_functions[] = {
    {"outline", (PyCFunction)wire_outline, METH_VARARGS, outline_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef wiremodule = {
    PyModuleDef_HEAD_INIT, "_wire", "Native scanner for jianguan.v1 EventBatch records.", -1,
    wire_functions,
};

PyMODINIT_FUNC PyInit__wire(void) {
    const uint16_t probe = 1;
    if (*(const uint8_t *)&probe != 1) {
        PyErr_SetString(PyExc_ImportError, "native blocks assume a little-endian machine");
        return NULL;
    }
    if (PyType_Ready(&SchemaType) < 0 || PyType_Ready(&NativeBlockType) < 0) return NULL;
    PyObject *m = PyModule_Create(&wiremodule);
    if (m == NULL) return NULL;
    if (PyModule_AddObjectRef(m, "Schema", (PyObject *)&SchemaType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
