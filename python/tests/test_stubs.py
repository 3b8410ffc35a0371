"""The type stubs and docstrings cover the whole runtime API."""

import ast
import inspect
import pathlib

import secagg

STUB = pathlib.Path(secagg.__file__).with_name("_secagg.pyi")

#: Every public name: ``secagg`` and ``secagg.dp`` (both re-export the native module).
PUBLIC = [(secagg, n) for n in secagg.__all__] + [(secagg.dp, n) for n in secagg.dp.__all__]


def stub_tree():
    return ast.parse(STUB.read_text())


def test_stubs_are_installed_with_py_typed():
    assert STUB.exists()
    assert STUB.with_name("py.typed").exists()


def test_every_exported_name_has_a_stub_and_a_docstring():
    tree = stub_tree()
    defined = {
        node.name
        for node in tree.body
        if isinstance(node, (ast.ClassDef, ast.FunctionDef))
    } | {
        t.id
        for node in tree.body
        if isinstance(node, (ast.AnnAssign, ast.Assign))
        for t in ([node.target] if isinstance(node, ast.AnnAssign) else node.targets)
        if isinstance(t, ast.Name)
    }
    for module, name in PUBLIC:
        assert name in defined, name
        obj = getattr(module, name)
        if inspect.isclass(obj) or callable(obj):
            assert obj.__doc__ and obj.__doc__.strip(), name


def test_every_public_method_and_property_has_a_stub():
    tree = stub_tree()
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    for module, name in PUBLIC:
        obj = getattr(module, name)
        if not inspect.isclass(obj) or issubclass(obj, BaseException):
            continue
        members = {
            n.name for n in classes[name].body if isinstance(n, (ast.FunctionDef, ast.AnnAssign))
        }
        runtime = {m for m in vars(obj) if not m.startswith("_")}
        assert runtime, name
        assert runtime <= members, (name, runtime - members)
        for m in runtime:
            assert getattr(obj, m).__doc__, (name, m)
