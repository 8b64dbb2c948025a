"""Builds the native core; all metadata lives in pyproject.toml."""

import Cython
from Cython.Build import cythonize
from setuptools import Extension, setup

# The compiled core reports the Cython that built it (Cython is not needed at run time).
built_with = ("FASTIMPORT_BUILT_WITH", f'"Cython {Cython.__version__}"')

setup(
    ext_modules=cythonize(
        [
            Extension(
                "fastimport._core",
                ["fastimport/_core.pyx"],
                extra_compile_args=["-O3"],
                define_macros=[built_with],
            )
        ],
        compiler_directives={"language_level": "3", "boundscheck": False, "wraparound": False},
    )
)
