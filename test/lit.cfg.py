# lit configuration for Loom's IR and tool tests.
import glob
import os
import shutil

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "Loom"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "Embed", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.loom_obj_root, "test")

# Catch FileCheck variables that leak between CHECK-LABEL blocks (as Triton does).
config.environment["FILECHECK_OPTS"] = "--enable-var-scope --dump-input=fail"

config.substitutions.append(("%loom_src", config.loom_src_root))
config.substitutions.append(("%python", shutil.which("python3") or "python3"))

llvm_config.with_system_environment(["HOME", "TMPDIR", "PATH"])
llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.loom_tools_dir, append_path=True)

tool_dirs = [config.loom_tools_dir, config.llvm_tools_dir]
tools = [ToolSubst(t, unresolved="fatal") for t in ("loom-opt", "loom-compile", "loom-run")]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# `ptxas`: a CUDA toolkit that loom-compile and --loom-gpu-pipeline can use
# (ptxas and libdevice), found the way they find it: $LOOM_CUDA_PATH, else
# /usr/local/cuda, else the toolkit of ptxas on PATH. Tests that compile
# kernels to PTX or cubin, or assemble PTX, require it; the rest of the GPU
# path is tested without.
def _cuda_toolkit():
    def complete(root):
        return (os.access(os.path.join(root, "bin", "ptxas"), os.X_OK) and
                os.path.exists(os.path.join(root, "nvvm", "libdevice", "libdevice.10.bc")))
    root = os.environ.get("LOOM_CUDA_PATH")
    if root:
        return root if complete(root) else None
    if complete("/usr/local/cuda"):
        return "/usr/local/cuda"
    ptxas = shutil.which("ptxas")
    if ptxas:
        root = os.path.dirname(os.path.dirname(os.path.realpath(ptxas)))
        return root if complete(root) else None
    return None

_toolkit = _cuda_toolkit()
if _toolkit:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", os.path.join(_toolkit, "bin", "ptxas")))
    config.substitutions.append(("%cuda_root", _toolkit))

# `cuobjdump`: disassembles cubins for test/Tools/wgmma_sass_check.py (with
# the nvdisasm beside it). The toolkit's if it has one (/usr/local/cuda here
# has none), else one on PATH, else the one scripts/python-env.sh installs
# into the package's Python environment (PyPI's nvidia-cuda-cuobjdump and
# nvidia-cuda-nvdisasm).
def _cuobjdump():
    candidates = [os.path.join(_toolkit, "bin", "cuobjdump")] if _toolkit else []
    if shutil.which("cuobjdump"):
        candidates.append(shutil.which("cuobjdump"))
    python = getattr(config, "loom_python", "")
    if python:
        env = os.path.dirname(os.path.dirname(python))
        candidates += sorted(glob.glob(os.path.join(
            env, "lib", "python3*", "site-packages", "nvidia", "cu*", "bin", "cuobjdump")))
    return next((c for c in candidates if os.access(c, os.X_OK) and
                 (os.access(os.path.join(os.path.dirname(c), "nvdisasm"), os.X_OK) or
                  shutil.which("nvdisasm"))), None)

_cuobjdump_path = _cuobjdump()
if _cuobjdump_path:
    config.available_features.add("cuobjdump")
    config.substitutions.append(("%cuobjdump", _cuobjdump_path))
if "LOOM_CUDA_PATH" in os.environ:
    config.environment["LOOM_CUDA_PATH"] = os.environ["LOOM_CUDA_PATH"]
