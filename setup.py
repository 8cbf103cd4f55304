"""Ships the top-level grammar/ folder inside the wheel as the package data ``proxyc.grammar``.

pyproject.toml holds the metadata; only this mapping needs code, because setuptools'
``packages.find`` cannot see a folder that lives outside ``proxyc/``.
"""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["proxyc", "proxyc.*"]) + ["proxyc.grammar"],
    package_dir={"proxyc.grammar": "grammar"},
    package_data={"proxyc.grammar": ["*.lark"]},
)
