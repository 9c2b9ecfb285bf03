"""The opt-in ``jsonata`` function: one JSONata expression over the whole source event (jsonata-python),
bounded in time and depth.

jsonata-python starts its runtime clock when the bounds are set, not when an evaluation starts: bounds given
to the compiled expression once would make every evaluation fail once the expression is older than the
timeout. So each evaluation gets a fresh frame with its own bounds (``Frame.set_runtime_bounds``), and the
parsed expression is shared.
"""

from __future__ import annotations

import sys

# Importing jsonata raises the whole process's recursion limit to 10,000 (its static initializer, to be "like
# JavaScript"). Every other parser of the portal relies on Python's default limit to refuse input nested too
# deeply (a filter of 500 parentheses, a JSON event 1,000 arrays deep) before it can overflow the C stack, so
# the limit is put back at once; JSONata's own depth bound (MAX_DEPTH) is far below it.
_LIMIT = sys.getrecursionlimit()
from jsonata import Jsonata  # noqa: E402
from jsonata.jexception import JException  # noqa: E402

sys.setrecursionlimit(_LIMIT)

from onboarding.mapping.rules import FnError  # noqa: E402

DEFAULT_TIMEOUT_MS = 100
DEFAULT_MAX_DEPTH = 50
MAX_TIMEOUT_MS = 1_000
MAX_DEPTH = 200
MAX_EXPRESSION = 4_000


def arg_problems(args: dict) -> dict[str, str]:
    out = {}
    expr = args.get("expr")
    if not isinstance(expr, str) or not expr.strip():
        out["args.expr"] = "expected a JSONata expression"
    elif len(expr) > MAX_EXPRESSION:
        out["args.expr"] = f"longer than {MAX_EXPRESSION} characters"
    else:
        try:
            Jsonata(expr)
        except JException as exc:
            out["args.expr"] = f"not a JSONata expression: {exc}"
        except RecursionError:
            out["args.expr"] = "nested too deeply"
    for key, most in (("timeout_ms", MAX_TIMEOUT_MS), ("max_depth", MAX_DEPTH)):
        value = args.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= most):
            out[f"args.{key}"] = f"expected a whole number from 1 to {most}"
    return out


def build(args: dict):
    expression = Jsonata(args["expr"])
    timeout = args.get("timeout_ms", DEFAULT_TIMEOUT_MS)
    depth = args.get("max_depth", DEFAULT_MAX_DEPTH)

    def evaluate(event):
        frame = expression.create_frame(None)
        frame.set_runtime_bounds(timeout, depth)
        try:
            return expression.evaluate(event, frame)
        except JException as exc:
            raise FnError(f"JSONata: {exc}", None) from None
        except RecursionError:
            raise FnError("JSONata: nested too deeply", None) from None
    return evaluate
