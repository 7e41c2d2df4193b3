"""Shared by drivers/build_line.py and dsp/build_dsp.py: one way to build a cffi module.

The cdef is read from the library's public header (declarations only: comments and
preprocessor lines are dropped), so the header stays the one place the C API is written.
"""
import glob
import os
import re
import shutil

from cffi import FFI


def cdef_from_header(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return "\n".join(lines)


def make_builder(module, lib_dir, headers, sources, absolute=False, **kw):
    """FFI builder for callbox.<module>; setuptools wants paths relative to the project
    root, a direct compile absolute ones."""
    root = os.path.dirname(lib_dir)

    def path(*parts):
        p = os.path.join(lib_dir, *parts)
        return p if absolute else os.path.relpath(p, root)

    ffi = FFI()
    ffi.cdef("\n".join(cdef_from_header(os.path.join(lib_dir, "include", "callbox", h)) for h in headers))
    ffi.set_source("callbox." + module, "\n".join('#include "callbox/%s"' % h for h in headers),
                   sources=[path("src", s) for s in sources],
                   include_dirs=[path("include"), path("src")],
                   extra_compile_args=["-O2", "-std=c11", "-D_DEFAULT_SOURCE", "-Wall", "-Wextra"], **kw)
    return ffi


def compile_in_place(ffi, module, lib_dir):
    """Development shortcut: build only this module into firmware/callbox/, without pip."""
    root = os.path.dirname(lib_dir)
    tmp = os.path.join(root, "build", "cffi" + module)
    ffi.compile(tmpdir=tmp, verbose=False)
    for so in glob.glob(os.path.join(tmp, "**", module + "*.so"), recursive=True):
        shutil.copy(so, os.path.join(root, "firmware", "callbox", os.path.basename(so)))
        print("built", os.path.basename(so))
