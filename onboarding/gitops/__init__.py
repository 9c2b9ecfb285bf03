"""GitOps: a team's resources as one declarative manifest (parse, validate, render, plan, apply)."""
