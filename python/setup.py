"""Offline install of the ksdb Python package: `pip install ./python`.

There is deliberately no pyproject.toml: with one, pip would build in an
isolated environment and try to download setuptools from PyPI. Without it,
pip uses the setuptools already installed (Debian: python3-setuptools).

The ksdb._native extension (PersistentClient/EphemeralClient) is built with the
project's CMake from the repository this folder sits in:
  KSDB_NATIVE_SO=<path to _native*.so>   copy an extension already built;
  KSDB_BUILD_DIR=<dir>                   CMake build dir to use (default:
                                         <repo>/build-pip, Release);
  KSDB_SKIP_NATIVE=1                     install HttpClient only.
"""

import glob
import os
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


class CMakeBuildExt(build_ext):
    """Builds the ksdb_native CMake target and copies the module in place."""

    def build_extension(self, ext: Extension) -> None:
        target = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(self._built_module(), target)

    def _built_module(self) -> str:
        prebuilt = os.environ.get("KSDB_NATIVE_SO")
        if prebuilt:
            return prebuilt
        if not os.path.exists(os.path.join(REPO, "CMakeLists.txt")):
            sys.exit(
                "ksdb: cannot build ksdb._native: the ksdb repository is not next to this "
                "folder. Set KSDB_NATIVE_SO to a built module or KSDB_SKIP_NATIVE=1."
            )
        build = os.environ.get("KSDB_BUILD_DIR", os.path.join(REPO, "build-pip"))
        jobs = str(os.cpu_count() or 2)
        subprocess.check_call(
            [
                "cmake", "-S", REPO, "-B", build, "-DCMAKE_BUILD_TYPE=Release",
                "-DKSDB_BUILD_TESTS=OFF", "-DKSDB_BUILD_BENCH=OFF", "-DKSDB_BUILD_PYTHON=ON",
                f"-DPython_EXECUTABLE={sys.executable}",
            ]
        )
        subprocess.check_call(["cmake", "--build", build, "-j", jobs, "--target", "ksdb_native"])
        modules = glob.glob(os.path.join(build, "python", "ksdb", "_native*.so"))
        if not modules:
            sys.exit(f"ksdb: the build in {build} produced no _native module")
        return modules[0]


skip_native = os.environ.get("KSDB_SKIP_NATIVE") == "1"

setup(
    name="ksdb",
    version="0.1.0",
    description="Python client for ksdb, a Chroma-compatible vector database (chromadb's API)",
    long_description=open(os.path.join(HERE, "README.md"), encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.8",
    packages=["ksdb"],
    extras_require={"numpy": ["numpy"], "progress": ["tqdm"]},
    ext_modules=[] if skip_native else [Extension("ksdb._native", sources=[])],
    cmdclass={"build_ext": CMakeBuildExt},
    zip_safe=False,
)
