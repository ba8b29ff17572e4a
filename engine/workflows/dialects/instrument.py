"""A watchdog tick in every loop, call and comprehension step of a Python script, so a busy script can be
stopped between steps (``runtime/scripthost/guest.py`` counts the ticks)."""

from __future__ import annotations

import ast
from typing import Any

# -- instrumentation: a watchdog tick in every loop and function body ---------------------------------

TICK_NAME = "__wc_tick__"


class _Instrument(ast.NodeTransformer):
    def _tick(self, node: ast.AST) -> ast.stmt:
        call = ast.Expr(ast.Call(ast.Name(TICK_NAME, ast.Load()), [], []))
        return ast.copy_location(call, node)

    def _prefix(self, node: Any) -> Any:
        self.generic_visit(node)
        node.body.insert(0, self._tick(node))
        if getattr(node, "returns", None) is not None:
            node.returns = self._checked(node.returns)
        return node

    visit_For = visit_AsyncFor = visit_While = _prefix
    visit_FunctionDef = visit_AsyncFunctionDef = _prefix

    def visit_Lambda(self, node: ast.Lambda) -> Any:
        self.generic_visit(node)
        # (tick(), body)[1] keeps lambdas interruptible without changing their value
        tick = ast.Call(ast.Name(TICK_NAME, ast.Load()), [], [])
        node.body = ast.Subscript(ast.Tuple([tick, node.body], ast.Load()), ast.Constant(1), ast.Load())
        return node

    def _comprehension(self, node: Any) -> Any:
        self.generic_visit(node)
        for generator in node.generators:
            tick = ast.Call(ast.Name(TICK_NAME, ast.Load()), [], [])
            # `if tick()` is always true: tick returns True or raises
            generator.ifs.insert(0, tick)
        return node

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension

    # `a ** b`, `a << b` and `seq * n` go through guards: one such C step cannot be interrupted by a tick
    _GUARDED_OPS: dict[type[ast.operator], str] = {ast.Pow: "__wc_pow__", ast.LShift: "__wc_lshift__",
                                                   ast.Mult: "__wc_mul__"}

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        self.generic_visit(node)
        guard = self._GUARDED_OPS.get(type(node.op))
        if guard is None:
            return node
        return ast.copy_location(ast.Call(ast.Name(guard, ast.Load()), [node.left, node.right], []), node)

    def visit_Call(self, node: ast.Call) -> Any:
        self.generic_visit(node)
        function = node.func
        if isinstance(function, ast.Attribute) and function.attr == "sort":
            # `x.sort()` sorts in one C call: the size is checked first (`sorted` is guarded the same way)
            function.value = ast.copy_location(
                ast.Call(ast.Name("__wc_sortable__", ast.Load()), [function.value], []), function.value)
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:
        self.generic_visit(node)
        guard = self._GUARDED_OPS.get(type(node.op))
        if guard is None or not isinstance(node.target, ast.Name):
            return node
        value = ast.Call(ast.Name(guard, ast.Load()), [ast.Name(node.target.id, ast.Load()), node.value], [])
        return ast.copy_location(ast.Assign([node.target], value), node)

    # annotations pass through a check that refuses text, which pydantic would otherwise eval()
    def _checked(self, annotation: ast.expr) -> ast.expr:
        return ast.copy_location(ast.Call(ast.Name("__wc_type__", ast.Load()), [annotation], []), annotation)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> Any:
        self.generic_visit(node)
        node.annotation = self._checked(node.annotation)
        return node

    def visit_arg(self, node: ast.arg) -> Any:
        self.generic_visit(node)
        if node.annotation is not None:
            node.annotation = self._checked(node.annotation)
        return node


def instrument(tree: ast.Module) -> ast.Module:
    out = _Instrument().visit(tree)
    assert isinstance(out, ast.Module)
    return ast.fix_missing_locations(out)
