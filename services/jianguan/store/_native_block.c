/*
 * jianguan.store._native_block: the event store's rows in ClickHouse's native column encoding,
 * written while the protobuf scanner (contracts/wire_scan.c, compiled in) walks each record with
 * the tables of a jianguan.contracts._wire.Schema. A record that is not plainly encoded, or has a
 * value that does not fit its column, is refused whole (nothing added): Python decodes it with
 * protobuf instead (jianguan.store.processor, the reference).
 */
#include "../contracts/wire_scan.h"

#include <string.h>

/* ClickHouse encodings (CT_) and value sources (S_), generated from
 * jianguan/store/native_constants.py. */
#include "_native_block_constants.h"

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
    const uint8_t *p[JG_MAX_COLUMNS];
    Py_ssize_t n[JG_MAX_COLUMNS];
    uint64_t u[JG_MAX_COLUMNS];
    float f[JG_MAX_COLUMNS];
    uint8_t set[JG_MAX_COLUMNS];
    uint8_t hex[JG_MAX_COLUMNS];    /* bytes written as lowercase hex */
    uint64_t items[JG_MAX_COLUMNS]; /* array elements appended for this row */
    const uint8_t *aux_p[JG_MAX_AUX];
    Py_ssize_t aux_n[JG_MAX_AUX];
    Buf *nested;                 /* per column: array elements (the block's own buffers) */
    const uint8_t *ctype;        /* per column: its encoding (CT_*) */
} NativeRow;


/* The visitor: the values the scanner finds, kept for emit_row. */
static int take_bytes(void *sink, const Field *f, const uint8_t *p, Py_ssize_t n) {
    NativeRow *r = sink;
    int c = f->column;
    if (f->conv == C_APPEND) {
        r->aux_p[f->aux] = p;
        r->aux_n[f->aux] = n;
    } else if (f->conv == C_LIST) {
        if (r->ctype[c] != CT_ARR_STRING) return JG_VISIT_ODD;
        if (buf_string(&r->nested[c], p, n) < 0) return -1;
        r->items[c]++;
    } else {
        r->p[c] = p;
        r->n[c] = n;
        r->set[c] = 1;
        r->hex[c] = f->conv == C_HEX;
    }
    return JG_VISIT_OK;
}

static int take_scalar(void *sink, const Field *f, uint64_t v, int64_t sv, double real) {
    NativeRow *r = sink;
    int c = f->column;
    int is_signed = f->type == T_INT64 || f->type == T_INT32;
    if (f->conv == C_LIST) {
        uint8_t byte = (uint8_t)v;
        if (r->ctype[c] != CT_ARR_U8 || v > 255) return JG_VISIT_ODD;
        if (buf_put(&r->nested[c], &byte, 1) < 0) return -1;
        r->items[c]++;
        return JG_VISIT_OK;
    }
    r->u[c] = is_signed ? (uint64_t)sv : v;
    r->f[c] = (float)real;
    r->set[c] = 1;
    return is_signed && sv < 0 ? JG_VISIT_ODD : JG_VISIT_OK; /* the columns are unsigned */
}

static const Visitor TAKE = {take_bytes, take_scalar};

typedef struct {
    PyObject_HEAD
    Schema *schema;
    uint8_t ctype[JG_MAX_COLUMNS];   /* ClickHouse encoding per column (CT_*) */
    uint8_t csource[JG_MAX_COLUMNS]; /* where a column's value comes from (S_*) */
    Py_ssize_t rows;
    Buf data[JG_MAX_COLUMNS];    /* values; for arrays, the cumulative offsets (UInt64) */
    Buf nested[JG_MAX_COLUMNS];  /* array elements */
    uint64_t total[JG_MAX_COLUMNS];
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
        int t = self->ctype[c], rc = 0;
        switch (self->csource[c]) {
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
    size_t data_n[JG_MAX_COLUMNS], nested_n[JG_MAX_COLUMNS];
    uint64_t total[JG_MAX_COLUMNS];
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
    r->ctype = self->ctype;
    for (;;) {
        const uint8_t *ep;
        Py_ssize_t en;
        memset(r->set, 0, sizeof r->set);
        memset(r->items, 0, sizeof r->items);
        memset(r->aux_p, 0, sizeof r->aux_p);
        Ev ev = {.s = s, .visit = &TAKE, .sink = r};
        int got = jg_parse_next(&o, &ev, &ep, &en);
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
    for (int c = 0; c < JG_MAX_COLUMNS; c++) {
        PyMem_Free(self->data[c].p);
        PyMem_Free(self->nested[c].p);
    }
    Py_XDECREF(self->schema);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* jianguan.contracts._wire.Schema, whose objects this module reads (wire_scan.h). */
static PyTypeObject *SchemaType;

static PyObject *NativeBlock_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"schema", "encodings", "sources", NULL};
    PyObject *schema;
    Py_buffer enc, src;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!y*y*", kwlist, SchemaType, &schema, &enc,
                                     &src))
        return NULL;
    Schema *s = (Schema *)schema;
    NativeBlock *b = NULL;
    if (enc.len != s->ncolumns || src.len != s->ncolumns || s->ncolumns == 0) {
        PyErr_SetString(PyExc_ValueError, "encodings and sources need one byte per column slot");
        goto done;
    }
    for (Py_ssize_t c = 0; c < enc.len; c++) {
        uint8_t t = ((const uint8_t *)enc.buf)[c];
        if (t == CT_NONE || t > CT_ARR_U8) {
            PyErr_Format(PyExc_ValueError, "column %zd has no ClickHouse encoding", c);
            goto done;
        }
    }
    b = (NativeBlock *)type->tp_alloc(type, 0);
    if (b == NULL) goto done;
    b->schema = (Schema *)Py_NewRef(schema);
    memcpy(b->ctype, enc.buf, (size_t)enc.len);
    memcpy(b->csource, src.buf, (size_t)src.len);
done:
    PyBuffer_Release(&enc);
    PyBuffer_Release(&src);
    return (PyObject *)b;
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
    .tp_name = "jianguan.store._native_block.NativeBlock",
    .tp_doc = PyDoc_STR("Event-store rows in ClickHouse's native column encoding."),
    .tp_basicsize = sizeof(NativeBlock),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = NativeBlock_new,
    .tp_dealloc = (destructor)NativeBlock_dealloc,
    .tp_methods = NativeBlock_methods,
    .tp_getset = NativeBlock_getset,
};


static struct PyModuleDef blockmodule = {
    PyModuleDef_HEAD_INIT, "_native_block",
    "Event-store rows in ClickHouse's native encoding, from EventBatch records.", -1, NULL,
};

PyMODINIT_FUNC PyInit__native_block(void) {
    const uint16_t probe = 1;
    if (*(const uint8_t *)&probe != 1) {
        PyErr_SetString(PyExc_ImportError, "native blocks assume a little-endian machine");
        return NULL;
    }
    PyObject *wire = PyImport_ImportModule("jianguan.contracts._wire");
    if (wire == NULL) return NULL;
    PyObject *schema = PyObject_GetAttrString(wire, "Schema");
    Py_DECREF(wire);
    if (schema == NULL) return NULL;
    if (!PyType_Check(schema)) {
        Py_DECREF(schema);
        PyErr_SetString(PyExc_ImportError, "jianguan.contracts._wire.Schema is not a type");
        return NULL;
    }
    SchemaType = (PyTypeObject *)schema; /* kept for the life of the process */
    if (PyType_Ready(&NativeBlockType) < 0) return NULL;
    PyObject *m = PyModule_Create(&blockmodule);
    if (m == NULL) return NULL;
    if (PyModule_AddObjectRef(m, "NativeBlock", (PyObject *)&NativeBlockType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
