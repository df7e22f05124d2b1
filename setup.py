"""Build hook for the optional C extensions; all project metadata lives in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        # optional: without a C compiler the install still succeeds; classifier.fastcut then
        # falls back to pure jieba and the model to its numpy scorer (same results, slower).
        Extension("classifier._jiebacut", ["classifier/_jiebacut.c"], optional=True),
        Extension("classifier._scorer", ["classifier/_scorer.c"], optional=True),
    ],
)
