"""Which signatures of a SavedModel need XLA, and what a server without it says.

An XLA export (`export_model(..., xla=True)`) runs its sampling loops inside
a `jit_compile=True` function: a FunctionDef with the attribute
`_XlaMustCompile = true`. TF Serving runs such a function only when started
with `--xla_cpu_compilation_enabled=true` (on GPUs,
`--xla_gpu_compilation_enabled`); without it the request fails with INTERNAL
"XLA compilation disabled" (TensorFlow's XLA compilation cache, after
`DisableXlaCompilation()`, which tensorflow_model_server calls when the flag
is false). `arzoo serve` refuses such a request before running it, with
FAILED_PRECONDITION (the server is not in the state the request needs: no
retry helps, its operator must restart it with the flag) and a message that
names the flag.
"""

XLA_FLAG = "--xla_cpu_compilation_enabled"
# What TensorFlow says when XLA is disabled (tensorflow/compiler/jit).
XLA_DISABLED_MESSAGE = "XLA compilation disabled"


def xla_disabled_message(signature_name):
    return (
        f"signature {signature_name!r} of this export is XLA-compiled (`arzoo export --xla`) and this "
        f"server runs without XLA: start it with {XLA_FLAG}=true (TF Serving and arzoo serve alike), "
        "or export the model without --xla (portable)."
    )


def _must_compile(function):
    attr = function.attr.get("_XlaMustCompile")
    return attr is not None and attr.b


def _called_functions(node, library):
    """Names of the library functions a NodeDef calls: its op, if a function,
    and every function-valued attribute (`f` of a PartitionedCall, the
    branches of a While or an If)."""
    names = [node.op] if node.op in library else []
    for value in node.attr.values():
        if value.HasField("func"):
            names.append(value.func.name)
        names.extend(f.name for f in value.list.func)
    return [name for name in names if name in library]


def xla_signatures(meta_graph):
    """The names of the signatures of `meta_graph` (a MetaGraphDef) whose
    graph reaches a function that must be XLA-compiled."""
    library = {f.signature.name: f for f in meta_graph.graph_def.library.function}
    nodes = {n.name: n for n in meta_graph.graph_def.node}
    needs_xla = {}

    def reaches_xla(name, seen):
        if name in needs_xla:
            return needs_xla[name]
        if name in seen:
            return False
        seen.add(name)
        function = library[name]
        found = _must_compile(function) or any(
            reaches_xla(called, seen) for node in function.node_def for called in _called_functions(node, library)
        )
        needs_xla[name] = found
        return found

    result = set()
    for key, signature in meta_graph.signature_def.items():
        outputs = [info.name.split(":")[0] for info in signature.outputs.values()]
        called = [f for name in outputs if name in nodes for f in _called_functions(nodes[name], library)]
        if any(reaches_xla(name, set()) for name in called):
            result.add(key)
    return result
