/*
 * Runs one signature of a SavedModel through TensorFlow's C API, the way a
 * server that knows nothing about Python (TF Serving) does:
 * TF_LoadSessionFromSavedModel (tags {"serve"}) then TF_SessionRun on the
 * signature's tensor names.
 *
 * Usage:
 *   run_signature --dir EXPORT_DIR
 *                 [--in TENSOR_NAME DTYPE SHAPE FILE]...
 *                 [--out TENSOR_NAME FILE]...
 *                 [--then [--in ...]... [--out ...]...]...
 *
 *   Each group of --in/--out is one TF_SessionRun; `--then` starts the next
 *   group, run in order on the same session (one model load for several
 *   signatures). Every group runs; each prints "run <i> ok" or
 *   "run <i> failed (<exit code>)", and the program exits with the first
 *   failure's code.
 *
 *   TENSOR_NAME  "op_name:index", e.g. serving_default_x:0 or
 *                StatefulPartitionedCall:1 (from the SignatureDef).
 *   DTYPE        int32 | int64 | float32 | float64
 *   SHAPE        comma-separated dims, e.g. 2,4,4,1 ("" or "scalar" for rank 0)
 *   FILE         raw little-endian (native) array, C order.
 *
 * Each output is written to FILE as raw bytes and to FILE.shape as one text
 * line: "DTYPE RANK D0 D1 ...".
 *
 * Exit codes (each failure prints a line starting with "ERROR"):
 *   0  success
 *   2  bad command line
 *   3  TF_LoadSessionFromSavedModel failed
 *   4  a tensor name is not an operation of the loaded graph
 *   5  reading an input / writing an output file failed
 *   6  an output has a dtype this program does not write
 *   20 TF_SessionRun failed; the line reads
 *      "ERROR TF_SessionRun code=<TF_Code> (<NAME>) message=<message>"
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensorflow/c/c_api.h"

#define MAX_TENSORS 64
#define MAX_DIMS 8

typedef struct {
  const char *name;
  TF_DataType dtype;
  int64_t dims[MAX_DIMS];
  int rank;
  const char *file;
} InputSpec;

typedef struct {
  const char *name;
  const char *file;
} OutputSpec;

static const char *code_name(TF_Code code) {
  switch (code) {
    case TF_OK: return "OK";
    case TF_CANCELLED: return "CANCELLED";
    case TF_UNKNOWN: return "UNKNOWN";
    case TF_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case TF_DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case TF_NOT_FOUND: return "NOT_FOUND";
    case TF_ALREADY_EXISTS: return "ALREADY_EXISTS";
    case TF_PERMISSION_DENIED: return "PERMISSION_DENIED";
    case TF_UNAUTHENTICATED: return "UNAUTHENTICATED";
    case TF_RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case TF_FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case TF_ABORTED: return "ABORTED";
    case TF_OUT_OF_RANGE: return "OUT_OF_RANGE";
    case TF_UNIMPLEMENTED: return "UNIMPLEMENTED";
    case TF_INTERNAL: return "INTERNAL";
    case TF_UNAVAILABLE: return "UNAVAILABLE";
    case TF_DATA_LOSS: return "DATA_LOSS";
    default: return "?";
  }
}

static int parse_dtype(const char *s, TF_DataType *out) {
  if (strcmp(s, "int32") == 0) *out = TF_INT32;
  else if (strcmp(s, "int64") == 0) *out = TF_INT64;
  else if (strcmp(s, "float32") == 0) *out = TF_FLOAT;
  else if (strcmp(s, "float64") == 0) *out = TF_DOUBLE;
  else return 0;
  return 1;
}

static const char *dtype_name(TF_DataType t) {
  switch (t) {
    case TF_INT32: return "int32";
    case TF_INT64: return "int64";
    case TF_FLOAT: return "float32";
    case TF_DOUBLE: return "float64";
    default: return NULL;
  }
}

static int parse_shape(const char *s, int64_t *dims, int *rank) {
  *rank = 0;
  if (s[0] == '\0' || strcmp(s, "scalar") == 0) return 1;
  const char *p = s;
  while (*p) {
    char *end;
    errno = 0;
    long long v = strtoll(p, &end, 10);
    if (end == p || errno != 0 || v < 0 || *rank >= MAX_DIMS) return 0;
    dims[(*rank)++] = (int64_t)v;
    if (*end == ',') p = end + 1;
    else if (*end == '\0') p = end;
    else return 0;
  }
  return 1;
}

/* "op:index" -> TF_Output; returns 0 if the op is not in the graph. */
static int lookup(TF_Graph *graph, const char *tensor_name, TF_Output *out) {
  char op_name[512];
  int index = 0;
  const char *colon = strrchr(tensor_name, ':');
  size_t len = colon ? (size_t)(colon - tensor_name) : strlen(tensor_name);
  if (len >= sizeof(op_name)) return 0;
  memcpy(op_name, tensor_name, len);
  op_name[len] = '\0';
  if (colon) index = atoi(colon + 1);
  TF_Operation *op = TF_GraphOperationByName(graph, op_name);
  if (op == NULL || index < 0 || index >= TF_OperationNumOutputs(op)) return 0;
  out->oper = op;
  out->index = index;
  return 1;
}

static void usage(void) {
  fprintf(stderr,
          "ERROR usage: run_signature --dir EXPORT_DIR "
          "[--in NAME DTYPE SHAPE FILE]... [--out NAME FILE]... [--then ...]...\n");
}

/* One TF_SessionRun: feeds ins, fetches outs, writes outs. Returns an exit code. */
static int run_group(TF_Session *session, TF_Graph *graph, TF_Status *status,
                     const InputSpec *ins, int nin, const OutputSpec *outs, int nout) {
  TF_Output in_ops[MAX_TENSORS] = {{0}}, out_ops[MAX_TENSORS] = {{0}};
  TF_Tensor *in_values[MAX_TENSORS] = {0};
  TF_Tensor *out_values[MAX_TENSORS] = {0};

  for (int i = 0; i < nin; i++) {
    if (!lookup(graph, ins[i].name, &in_ops[i])) {
      fprintf(stderr, "ERROR no tensor '%s' in the graph\n", ins[i].name);
      return 4;
    }
    size_t count = 1;
    for (int d = 0; d < ins[i].rank; d++) count *= (size_t)ins[i].dims[d];
    size_t nbytes = count * TF_DataTypeSize(ins[i].dtype);
    in_values[i] = TF_AllocateTensor(ins[i].dtype, ins[i].dims, ins[i].rank, nbytes);
    FILE *f = fopen(ins[i].file, "rb");
    if (f == NULL) {
      fprintf(stderr, "ERROR cannot open '%s'\n", ins[i].file);
      return 5;
    }
    size_t got = nbytes ? fread(TF_TensorData(in_values[i]), 1, nbytes, f) : 0;
    int extra = fgetc(f);
    fclose(f);
    if (got != nbytes || extra != EOF) {
      fprintf(stderr, "ERROR '%s' does not hold exactly %zu bytes for %s\n", ins[i].file,
              nbytes, ins[i].name);
      return 5;
    }
  }
  for (int i = 0; i < nout; i++) {
    if (!lookup(graph, outs[i].name, &out_ops[i])) {
      fprintf(stderr, "ERROR no tensor '%s' in the graph\n", outs[i].name);
      return 4;
    }
    out_values[i] = NULL;
  }

  TF_SessionRun(session, NULL, in_ops, in_values, nin, out_ops, out_values, nout, NULL, 0,
                NULL, status);
  for (int i = 0; i < nin; i++) TF_DeleteTensor(in_values[i]);
  if (TF_GetCode(status) != TF_OK) {
    /* One line: the message may hold newlines (graph context); flatten them. */
    char *message = strdup(TF_Message(status));
    for (char *c = message; *c; c++)
      if (*c == '\n') *c = ' ';
    fprintf(stderr, "ERROR TF_SessionRun code=%d (%s) message=%s\n", (int)TF_GetCode(status),
            code_name(TF_GetCode(status)), message);
    printf("TF_SessionRun code=%d (%s)\n", (int)TF_GetCode(status),
           code_name(TF_GetCode(status)));
    free(message);
    return 20;
  }

  for (int i = 0; i < nout; i++) {
    TF_Tensor *t = out_values[i];
    const char *dname = dtype_name(TF_TensorType(t));
    if (dname == NULL) {
      fprintf(stderr, "ERROR output %s has unsupported dtype %d\n", outs[i].name,
              (int)TF_TensorType(t));
      return 6;
    }
    FILE *f = fopen(outs[i].file, "wb");
    size_t nbytes = TF_TensorByteSize(t);
    if (f == NULL || (nbytes && fwrite(TF_TensorData(t), 1, nbytes, f) != nbytes)) {
      fprintf(stderr, "ERROR cannot write '%s'\n", outs[i].file);
      return 5;
    }
    fclose(f);
    char shape_path[4096];
    snprintf(shape_path, sizeof(shape_path), "%s.shape", outs[i].file);
    f = fopen(shape_path, "w");
    if (f == NULL) {
      fprintf(stderr, "ERROR cannot write '%s'\n", shape_path);
      return 5;
    }
    int rank = TF_NumDims(t);
    fprintf(f, "%s %d", dname, rank);
    for (int d = 0; d < rank; d++) fprintf(f, " %lld", (long long)TF_Dim(t, d));
    fprintf(f, "\n");
    fclose(f);
    printf("output %s -> %s (%s, rank %d)\n", outs[i].name, outs[i].file, dname, rank);
    TF_DeleteTensor(t);
  }
  return 0;
}

#define MAX_GROUPS 64

int main(int argc, char **argv) {
  const char *dir = NULL;
  static InputSpec ins[MAX_GROUPS][MAX_TENSORS];
  static OutputSpec outs[MAX_GROUPS][MAX_TENSORS];
  int nin[MAX_GROUPS] = {0}, nout[MAX_GROUPS] = {0};
  int group = 0;

  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
      dir = argv[++i];
    } else if (strcmp(argv[i], "--then") == 0 && group + 1 < MAX_GROUPS) {
      group++;
    } else if (strcmp(argv[i], "--in") == 0 && i + 4 < argc && nin[group] < MAX_TENSORS) {
      InputSpec *s = &ins[group][nin[group]++];
      s->name = argv[i + 1];
      if (!parse_dtype(argv[i + 2], &s->dtype)) {
        fprintf(stderr, "ERROR unknown dtype '%s'\n", argv[i + 2]);
        return 2;
      }
      if (!parse_shape(argv[i + 3], s->dims, &s->rank)) {
        fprintf(stderr, "ERROR bad shape '%s'\n", argv[i + 3]);
        return 2;
      }
      s->file = argv[i + 4];
      i += 4;
    } else if (strcmp(argv[i], "--out") == 0 && i + 2 < argc && nout[group] < MAX_TENSORS) {
      outs[group][nout[group]].name = argv[i + 1];
      outs[group][nout[group]].file = argv[i + 2];
      nout[group]++;
      i += 2;
    } else {
      usage();
      return 2;
    }
  }
  if (dir == NULL) {
    usage();
    return 2;
  }
  for (int g = 0; g <= group; g++) {
    if (nout[g] == 0) {
      fprintf(stderr, "ERROR run %d fetches no output\n", g);
      usage();
      return 2;
    }
  }

  TF_Status *status = TF_NewStatus();
  TF_SessionOptions *options = TF_NewSessionOptions();
  TF_Graph *graph = TF_NewGraph();
  TF_Buffer *meta_graph = TF_NewBuffer();
  const char *tags[] = {"serve"};
  TF_Session *session = TF_LoadSessionFromSavedModel(options, NULL, dir, tags, 1, graph,
                                                     meta_graph, status);
  if (TF_GetCode(status) != TF_OK) {
    fprintf(stderr, "ERROR TF_LoadSessionFromSavedModel code=%d (%s) message=%s\n",
            (int)TF_GetCode(status), code_name(TF_GetCode(status)), TF_Message(status));
    return 3;
  }
  printf("loaded %s (MetaGraphDef %zu bytes)\n", dir, meta_graph->length);

  int first_failure = 0;
  for (int g = 0; g <= group; g++) {
    int rc = run_group(session, graph, status, ins[g], nin[g], outs[g], nout[g]);
    if (rc == 0) {
      printf("run %d ok\n", g);
    } else {
      printf("run %d failed (%d)\n", g, rc);
      fprintf(stderr, "ERROR run %d failed with exit code %d\n", g, rc);
      if (first_failure == 0) first_failure = rc;
    }
    fflush(stdout);
  }
  if (first_failure != 0) return first_failure;

  TF_CloseSession(session, status);
  TF_DeleteSession(session, status);
  TF_DeleteBuffer(meta_graph);
  TF_DeleteGraph(graph);
  TF_DeleteSessionOptions(options);
  TF_DeleteStatus(status);
  return 0;
}
