/*
 * jianguan.contracts._wire: one pass over a serialized jianguan.v1.EventBatch (wire_scan.c),
 * driven by tables that Python builds from the contract's descriptors (jianguan.contracts.wire).
 *
 * Fast paths with the Python code as the reference:
 *  - scan():    the ingest paths learn, per event, whether it certainly satisfies every rule
 *               ("clean") or must be judged by the Python validator ("suspect"), plus the
 *               envelope values admission needs. The scanner may call a valid event suspect,
 *               never an invalid event clean. None means "judge the whole batch in Python".
 *  - events():  the body kind and the encoded bytes of each event, for routing.
 *  - outline(): the top level alone (batch id, number of events).
 * A Schema also maps fields to column slots; the event store's native encoder
 * (jianguan.store._native_block) walks records with it.
 */
#include "wire_scan.h"

#include <string.h>

static PyObject *batch_id_of(const Outer *o) {
    if (o->batch_id == NULL) return PyUnicode_New(0, 0);
    return PyUnicode_DecodeUTF8((const char *)o->batch_id, o->batch_id_len, NULL);
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
"-> (batch_id, event_ids, service_ids, named, suspects, starts, ends, newest_s, links)\n"
"or None.\n\n"
"``named`` lists (index, provider_id) for events that name a provider; ``suspects`` the\n"
"indices the Python validator must judge; starts/ends the byte span of each event in raw;\n"
"``links`` each event's place in its chain: (stream_id, sequence, prev_hash).\n"
"None: the batch is not plainly encoded; judge it all in Python.");

static PyObject *Schema_scan(Schema *self, PyObject *args) {
    Py_buffer buf;
    Limits lim;
    if (!PyArg_ParseTuple(args, "y*dddn", &buf, &lim.now, &lim.max_future, &lim.max_age,
                          &lim.max_event_bytes))
        return NULL;
    PyObject *ids = PyList_New(0), *services = PyList_New(0), *named = PyList_New(0),
             *suspects = PyList_New(0), *starts = PyList_New(0), *ends = PyList_New(0),
             *links = PyList_New(0);
    PyObject *result = NULL, *last_service = NULL;
    const uint8_t *base = buf.buf;
    Outer o = {base, base + buf.len, NULL, 0};
    int64_t newest = INT64_MIN;
    if (!ids || !services || !named || !suspects || !starts || !ends || !links) goto done;
    for (Py_ssize_t i = 0;; i++) {
        const uint8_t *ep;
        Py_ssize_t en;
        Ev ev = {.s = self};
        int r = jg_parse_next(&o, &ev, &ep, &en);
        if (r == EV_END) break;
        if (r == EV_ERROR) goto done;
        if (r == EV_NOT_PLAIN) {
            result = Py_NewRef(Py_None);
            goto done;
        }
        jg_judge_envelope(&ev, &lim, en);
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
        PyObject *link = Py_BuildValue(
            "(NKy#)", str_of(ev.stream_id, ev.stream_id_len), (unsigned long long)ev.sequence,
            (const char *)(ev.prev_hash ? ev.prev_hash : (const uint8_t *)""),
            ev.prev_hash ? ev.prev_hash_len : (Py_ssize_t)0);
        if (add_owned(links, link) < 0) goto done;
        if (ev.seconds > newest) newest = ev.seconds;
    }
    {
        PyObject *bid = batch_id_of(&o);
        if (bid == NULL) goto done;
        result = Py_BuildValue("(NOOOOOOLO)", bid, ids, services, named, suspects, starts, ends,
                               (long long)(newest == INT64_MIN ? 0 : newest), links);
    }
done:
    Py_XDECREF(last_service);
    Py_XDECREF(ids);
    Py_XDECREF(services);
    Py_XDECREF(named);
    Py_XDECREF(suspects);
    Py_XDECREF(starts);
    Py_XDECREF(ends);
    Py_XDECREF(links);
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
        int r = jg_parse_next(&o, &ev, &ep, &en);
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

/* ---- construction from the tables built in Python ------------------------------------- */

static void Schema_dealloc(Schema *self) {
    if (self->msgs != NULL) {
        for (int i = 0; i < self->nmsgs; i++) PyMem_Free(self->msgs[i].fields);
        PyMem_Free(self->msgs);
    }
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
        if (*naux >= JG_MAX_AUX) {
            PyErr_SetString(PyExc_ValueError, "too many appended fields");
            return -1;
        }
        f->aux = *naux;
        aux_column[(*naux)++] = f->column;
    }
    return 0;
}

static int Schema_init(Schema *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"messages", "versions", "columns", NULL};
    PyObject *messages;
    unsigned long long versions;
    int nc = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!K|i", kwlist, &PyList_Type, &messages,
                                     &versions, &nc))
        return -1;
    if (self->msgs != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Schema is already initialised");
        return -1;
    }
    Py_ssize_t nm = PyList_GET_SIZE(messages);
    if (nm < 1 || nc < 0 || nc > JG_MAX_COLUMNS) {
        PyErr_SetString(PyExc_ValueError, "need at least one message and at most 128 columns");
        return -1;
    }
    self->msgs = PyMem_Calloc((size_t)nm, sizeof(Msg));
    if (self->msgs == NULL) return -1;
    self->nmsgs = (int)nm;
    self->ncolumns = nc;
    self->versions = versions;
    for (Py_ssize_t i = 0; i < nm; i++) {
        /* each message: list of (number, field tuple) */
        PyObject *fields = PyList_GET_ITEM(messages, i);
        if (!PyList_Check(fields)) {
            PyErr_SetString(PyExc_TypeError, "a message is a list of (number, field)");
            return -1;
        }
        Msg *m = &self->msgs[i];
        m->maxnum = JG_MAX_FIELD;
        m->fields = PyMem_Calloc(JG_MAX_FIELD + 1, sizeof(Field));
        if (m->fields == NULL) return -1;
        for (Py_ssize_t j = 0; j < PyList_GET_SIZE(fields); j++) {
            int num;
            PyObject *spec;
            if (!PyArg_ParseTuple(PyList_GET_ITEM(fields, j), "iO!", &num, &PyTuple_Type, &spec))
                return -1;
            if (num < 1 || num > JG_MAX_FIELD) {
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
        p = jg_read_varint(p, end, &tag);
        if (p == NULL || (tag >> 3) == 0) {
            ok = 0;
            break;
        }
        int wt = (int)(tag & 7);
        if ((tag >> 3) <= 2 && wt == 2) {
            p = jg_read_varint(p, end, &n);
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
            p = jg_skip_field(p, end, wt);
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
    if (PyType_Ready(&SchemaType) < 0) return NULL;
    PyObject *m = PyModule_Create(&wiremodule);
    if (m == NULL) return NULL;
    if (PyModule_AddObjectRef(m, "Schema", (PyObject *)&SchemaType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
