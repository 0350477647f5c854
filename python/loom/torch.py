"""Loom entries as torch custom operators (torch.library), so that a
torch.compile'd model calls them without a graph break.

    op = loom.torch.register(module, "mylib::block")        # the module's only entry
    op = loom.torch.register(module, "mylib::attn", entry="attention")
    y = torch.ops.mylib.block(x, w)                        # or op(x, w)

The operator's schema takes every argument as a Tensor and returns the
entry's results; its implementation is the entry's call (registered for the
module's device, CPU or CUDA), and its fake (meta) implementation makes
empty tensors of the result dtypes and shapes that the module computes from
the argument sizes alone (loom_shape_<name>, docs/abi.md), after the same
dtype, rank and static-size checks as a call. Symbolic sizes are
specialized (the fake implementation asks for their values).
"""
import torch

from . import Entry, Module, _torch_dtypes

# The torch.library.Library objects must outlive the registrations.
_libraries = []


def _resolve(module, entry):
    if isinstance(module, Entry):
        if entry is not None:
            raise TypeError("register(entry, ...) takes no entry= argument")
        return module
    if not isinstance(module, Module):
        raise TypeError(f"register() takes a loom Module or Entry, not "
                        f"{type(module).__name__}")
    if entry is None:
        if len(module.entries) != 1:
            raise ValueError(f"module '{module.path}' has {len(module.entries)} entries "
                             f"({', '.join(module.entries)}): name one with entry=")
        return next(iter(module.entries.values()))
    return module[entry]


def register(module, qualname, entry=None):
    """Registers an entry of `module` (a loom Module or Entry) as the torch
    operator `qualname` ("namespace::name"); returns the operator
    (torch.ops.namespace.name)."""
    e = _resolve(module, entry)
    if not isinstance(qualname, str) or qualname.count("::") != 1:
        raise ValueError(f"qualname must be 'namespace::name', not {qualname!r}")
    ns, name = qualname.split("::")
    if not ns.isidentifier() or not name.isidentifier():
        raise ValueError(f"qualname must be 'namespace::name' with identifiers, "
                         f"not {qualname!r}")
    params = ", ".join(f"Tensor a{i}" for i in range(len(e.args)))
    nres = len(e.results)
    returns = "()" if nres == 0 else "Tensor" if nres == 1 else \
        "(" + ", ".join(["Tensor"] * nres) + ")"
    library = torch.library.Library(ns, "FRAGMENT")
    library.define(f"{name}({params}) -> {returns}")
    _libraries.append(library)
    dtypes = _torch_dtypes()
    arg_dtypes = [dtypes[t] for t, _ in e.args]
    result_dtypes = [dtypes[t] for t, _ in e.results]
    device_type = "cuda" if e.cuda else "cpu"

    def implementation(*args):
        return e(*args)

    def fake(*args):
        if len(args) != len(e.args):
            raise TypeError(f"{e.name}() takes {len(e.args)} argument(s) "
                            f"({e.signature}), got {len(args)}")
        for i, a in enumerate(args):
            if a.dtype != arg_dtypes[i]:
                raise TypeError(f"argument {i} of {e.name} has dtype {a.dtype}, "
                                f"expected {arg_dtypes[i]}")
            if a.device.type != device_type:
                raise ValueError(f"argument {i} of {e.name} is on {a.device}; the "
                                 f"module ({e.module.target}) runs on {device_type}")
        shapes = e.shapes_for_sizes([tuple(a.shape) for a in args])
        device = args[0].device if args else torch.device(device_type)
        outs = [torch.empty(s, dtype=result_dtypes[r], device=device)
                for r, s in enumerate(shapes)]
        if nres == 0:
            return None
        return outs[0] if nres == 1 else tuple(outs)

    library.impl(name, implementation, "CUDA" if e.cuda else "CPU")
    torch.library.register_fake(qualname, fake, lib=library)
    return getattr(getattr(torch.ops, ns), name)
