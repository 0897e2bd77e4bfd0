/*
 * Protobuf scanning for jianguan.v1 EventBatch records: see wire_scan.h. Every rule the scanner
 * applies is a superset of the Python validator's (jianguan.contracts.validation), which stays
 * the reference: an event may be called suspect when valid, never clean when invalid.
 */
#include "wire_scan.h"

#include <math.h>
#include <string.h>

const uint8_t *jg_read_varint(const uint8_t *p, const uint8_t *end, uint64_t *out) {
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

/* No overlongs, surrogates or code points above U+10FFFF. */
Py_ssize_t jg_utf8_chars(const uint8_t *p, Py_ssize_t n) {
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

const uint8_t *jg_skip_field(const uint8_t *p, const uint8_t *end, int wt) {
    uint64_t n;
    switch (wt) {
    case 0: return jg_read_varint(p, end, &n);
    case 1: return (end - p >= 8) ? p + 8 : NULL;
    case 5: return (end - p >= 4) ? p + 4 : NULL;
    case 2:
        p = jg_read_varint(p, end, &n);
        if (p == NULL || n > (uint64_t)(end - p)) return NULL;
        return p + n;
    default: return NULL; /* groups are not part of this contract */
    }
}


/* Hands a value to the visitor, when the tables map its field to a column slot. */
static int visit_bytes(Ev *ev, const Field *f, const uint8_t *p, Py_ssize_t n) {
    if (ev->visit == NULL || f->conv == C_NONE) return 0;
    int rc = ev->visit->bytes(ev->sink, f, p, n);
    if (rc == JG_VISIT_ODD) ev->odd = 1;
    return rc < 0 ? -1 : 0;
}

static int visit_scalar(Ev *ev, const Field *f, uint64_t v, int64_t sv, double real) {
    if (ev->visit == NULL || f->conv == C_NONE) return 0;
    int rc = ev->visit->scalar(ev->sink, f, v, sv, real);
    if (rc == JG_VISIT_ODD) ev->odd = 1;
    return rc < 0 ? -1 : 0;
}

static int length_field(Ev *ev, const Field *f, const uint8_t *p, Py_ssize_t n) {
    if (f->type == T_STRING) {
        Py_ssize_t chars = jg_utf8_chars(p, n);
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
    } else if ((f->flags & F_EXACT) && n != (Py_ssize_t)f->max_len) {
        ev->suspect = 1; /* a digest of another length */
    }
    switch (f->role) {
    case R_EVENT_ID: ev->event_id = p; ev->event_id_len = n; break;
    case R_SERVICE_ID: ev->service_id = p; ev->service_id_len = n; break;
    case R_PROVIDER_ID: ev->provider_id = p; ev->provider_id_len = n; break;
    case R_STREAM_ID: ev->stream_id = p; ev->stream_id_len = n; break;
    case R_PREV_HASH: ev->prev_hash = p; ev->prev_hash_len = n; break;
    default: break;
    }
    return visit_bytes(ev, f, p, n);
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
    return visit_scalar(ev, f, v, sv, real);
}

static int parse_msg(Ev *ev, int mi, const uint8_t *p, const uint8_t *end, int depth) {
    const Msg *m = &ev->s->msgs[mi];
    uint64_t seen = 0, present = 0;
    if (depth > JG_MAX_DEPTH) {
        ev->failed = 1;
        return 0;
    }
    while (p < end) {
        uint64_t tag, n;
        p = jg_read_varint(p, end, &tag);
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
            p = jg_skip_field(p, end, wt);
            if (p == NULL) goto broken;
            continue;
        }
        uint64_t bit = 1ull << num;
        if (!(f->flags & F_REPEATED)) {
            if (seen & bit) ev->odd = 1; /* protobuf merges repeats; plain encodings don't */
            seen |= bit;
        }
        if (wt == 2) {
            p = jg_read_varint(p, end, &n);
            if (p == NULL || n > (uint64_t)(end - p)) goto broken;
            const uint8_t *data = p;
            p += n;
            if (packed) {
                const uint8_t *q = data;
                while (q < p) {
                    uint64_t v;
                    q = jg_read_varint(q, p, &v);
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
            p = jg_read_varint(p, end, &v);
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

void jg_judge_envelope(Ev *ev, const Limits *lim, Py_ssize_t size) {
    const Schema *s = ev->s;
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

/* Next event (its bytes in ev_p, ev_n): 1, end: 0, not plain: -1. */
static int next_event(Outer *o, const uint8_t **ev_p, Py_ssize_t *ev_n) {
    while (o->p < o->end) {
        uint64_t tag, n;
        const uint8_t *p = jg_read_varint(o->p, o->end, &tag);
        if (p == NULL || (tag != 0x0A && tag != 0x12)) return -1;
        p = jg_read_varint(p, o->end, &n);
        if (p == NULL || n > (uint64_t)(o->end - p)) return -1;
        o->p = p + n;
        if (tag == 0x0A) {
            if (o->batch_id != NULL || jg_utf8_chars(p, (Py_ssize_t)n) < 0) return -1;
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

int jg_parse_next(Outer *o, Ev *ev, const uint8_t **ep, Py_ssize_t *en) {
    int r = next_event(o, ep, en);
    if (r <= 0) return r < 0 ? EV_NOT_PLAIN : EV_END;
    if (parse_msg(ev, 0, *ep, *ep + *en, 0) < 0) return EV_ERROR;
    return ev->failed ? EV_NOT_PLAIN : EV_OK;
}
