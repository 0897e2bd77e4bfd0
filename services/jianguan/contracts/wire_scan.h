/*
 * One pass over serialized jianguan.v1 protobuf messages, driven by tables that Python builds
 * from the contract's descriptors (jianguan.contracts.wire): the protobuf scanning that the
 * scanner module (_wire.c) and the event store's native encoder (store/_native_block.c) share.
 * Nothing here knows about storage: values a table maps to a column slot are handed to a
 * Visitor, which decides what they become.
 *
 * Compiled into each extension that uses it (with hidden visibility, so the copies never meet).
 */
#ifndef JIANGUAN_WIRE_SCAN_H
#define JIANGUAN_WIRE_SCAN_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

/* Field types (T_), rules (F_), envelope roles (R_) and slot conversions (C_), generated from
 * jianguan/contracts/wire_constants.py. */
#include "_wire_constants.h"

#define JG_MAX_FIELD 63
#define JG_MAX_COLUMNS 128
#define JG_MAX_AUX 8
#define JG_MAX_DEPTH 8

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

/* The tables of jianguan.contracts._wire.Schema; the object's layout, shared by the modules
 * that compile this file (the event store's encoder takes a Schema made by the scanner). */
typedef struct {
    PyObject_HEAD
    int nmsgs, ncolumns, naux;
    Msg *msgs;
    uint64_t versions;          /* supported schema versions, bit per version < 64 */
    int aux_column[JG_MAX_AUX]; /* APPEND slot -> column slot, in the order slots combine */
} Schema;

/* Receives the values of the fields a table maps to a column slot (conv != C_NONE). Each call
 * returns JG_VISIT_OK, JG_VISIT_ODD (the value cannot be taken plainly: the event is not plain)
 * or -1 with an exception set. */
enum { JG_VISIT_OK = 0, JG_VISIT_ODD = 1 };
typedef struct {
    int (*bytes)(void *sink, const Field *f, const uint8_t *p, Py_ssize_t n);
    /* v: the value as unsigned (bools 0/1); sv: as signed; real: a float field's value */
    int (*scalar)(void *sink, const Field *f, uint64_t v, int64_t sv, double real);
} Visitor;

/* What parsing one event found. */
typedef struct {
    const Schema *s;
    const Visitor *visit; /* NULL: only judge */
    void *sink;
    const uint8_t *event_id, *service_id, *provider_id, *stream_id, *prev_hash;
    Py_ssize_t event_id_len, service_id_len, provider_id_len, stream_id_len, prev_hash_len;
    uint64_t sequence, schema_version;
    int64_t seconds, nanos;
    int kind, suspect, odd, failed;
} Ev;

/* The envelope's own rules (timestamps, hash-chain shape, schema version) for a scan. */
typedef struct {
    double now, max_future, max_age;
    Py_ssize_t max_event_bytes;
} Limits;

/* Walks the outer EventBatch: field 1 batch_id, field 2 events. Anything else: not plain. */
typedef struct {
    const uint8_t *p, *end, *batch_id;
    Py_ssize_t batch_id_len;
} Outer;

/* jg_parse_next's answers. */
enum { EV_ERROR = -1, EV_END = 0, EV_OK = 1, EV_NOT_PLAIN = 2 };

#if defined(__GNUC__)
#define JG_HIDDEN __attribute__((visibility("hidden")))
#else
#define JG_HIDDEN
#endif

/* A varint at p (not past end) into *out; the byte after it, or NULL when malformed. */
JG_HIDDEN const uint8_t *jg_read_varint(const uint8_t *p, const uint8_t *end, uint64_t *out);
/* Past a field of wire type wt at p; NULL when malformed (groups are not in this contract). */
JG_HIDDEN const uint8_t *jg_skip_field(const uint8_t *p, const uint8_t *end, int wt);
/* Strict UTF-8 as protobuf requires of proto3 strings: the number of code points, or -1. */
JG_HIDDEN Py_ssize_t jg_utf8_chars(const uint8_t *p, Py_ssize_t n);
/* The next event of the batch parsed into ``ev`` (which the caller sets up), its bytes in
 * *ep, *en: EV_OK; the end: EV_END; not plainly encoded (the batch, or this event):
 * EV_NOT_PLAIN; an exception is set: EV_ERROR. */
JG_HIDDEN int jg_parse_next(Outer *o, Ev *ev, const uint8_t **ep, Py_ssize_t *en);
/* Marks ``ev`` suspect when its envelope may break a rule the Python validator checks. */
JG_HIDDEN void jg_judge_envelope(Ev *ev, const Limits *lim, Py_ssize_t size);

#endif
