#!/usr/bin/env python3
"""Writes a module nesting one construct DEPTH levels deep.

usage: nest.py KIND DEPTH > out.mlir

KIND: region (scf.execute_region), if (scf.if), paren (an affine expression),
array (an array attribute), dict (a dictionary attribute), tuple (a tuple
type). The function's own brackets add one level (two for paren), so the
text nests DEPTH + 1 levels (DEPTH + 2 for paren); the innermost construct
starts on line DEPTH + 1 for region and if, on line 1 for the others.
"""
import sys


def nest(kind, n):
    if kind == "region":
        return ("func.func @f() {\n" + "scf.execute_region {\n" * n +
                "scf.yield\n}\n" * n + "return\n}\n")
    if kind == "if":
        return "func.func @f(%c: i1) {\n" + "scf.if %c {\n" * n + "}\n" * n + "return\n}\n"
    if kind == "paren":
        return ("#m = affine_map<(d0) -> (" + "(" * n + "d0" + ")" * n + ")>\n"
                "func.func @f() attributes {m = #m} {\nreturn\n}\n")
    if kind == "array":
        return "func.func @f() attributes {a = " + "[" * n + "0" + "]" * n + "} {\nreturn\n}\n"
    if kind == "dict":
        return ("func.func @f() attributes {a = " + "{a = " * n + "unit" + "}" * n +
                "} {\nreturn\n}\n")
    if kind == "tuple":
        return "func.func @f(%a: " + "tuple<" * n + "i32" + ">" * n + ") {\nreturn\n}\n"
    sys.exit("nest.py: unknown kind " + kind)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.stdout.write(nest(sys.argv[1], int(sys.argv[2])))
