"""The fixed unit conversions a ``unit`` rule may name: (from, to) -> a function of one number.

A fixed table rather than a units library: canonical formats name a handful of units, and a table the portal
owns can be listed on the mapping page and reviewed. Glucose uses its molar mass (180.156 g/mol), so
1 mmol/L = 18.0156 mg/dL; other analytes need their own entry, never this one.
"""

from __future__ import annotations

_LB_KG = 0.45359237  # exact, by definition of the international pound
_IN_CM = 2.54  # exact
_GLUCOSE_MG_DL_PER_MMOL_L = 18.0156

CONVERSIONS = {
    ("lb", "kg"): lambda v: v * _LB_KG,
    ("kg", "lb"): lambda v: v / _LB_KG,
    ("oz", "g"): lambda v: v * 28.349523125,
    ("g", "oz"): lambda v: v / 28.349523125,
    ("in", "cm"): lambda v: v * _IN_CM,
    ("cm", "in"): lambda v: v / _IN_CM,
    ("ft", "m"): lambda v: v * 0.3048,
    ("m", "ft"): lambda v: v / 0.3048,
    ("F", "C"): lambda v: (v - 32) * 5 / 9,
    ("C", "F"): lambda v: v * 9 / 5 + 32,
    ("glucose_mg/dL", "glucose_mmol/L"): lambda v: v / _GLUCOSE_MG_DL_PER_MMOL_L,
    ("glucose_mmol/L", "glucose_mg/dL"): lambda v: v * _GLUCOSE_MG_DL_PER_MMOL_L,
}
# the short names most feeds use for glucose
CONVERSIONS[("mg/dL", "mmol/L")] = CONVERSIONS[("glucose_mg/dL", "glucose_mmol/L")]
CONVERSIONS[("mmol/L", "mg/dL")] = CONVERSIONS[("glucose_mmol/L", "glucose_mg/dL")]


def names() -> list[str]:
    return [f"{a}->{b}" for a, b in CONVERSIONS]
