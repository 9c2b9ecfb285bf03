"""Consumer groups: pure rules of offset resets (plan.py) and the lag picture (lag_svg.py)."""
