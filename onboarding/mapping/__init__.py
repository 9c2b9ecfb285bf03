"""Normalization mappings: rules as data that turn an acquired system's event into a canonical one.

Pure code (no rows, no network). ``rules`` holds the rule format and its JSON form, ``library`` the fixed
functions a rule may name, ``compiler`` turns a rule list into closures once, ``checks`` compares a rule list
with the source and canonical schemas when it is saved, ``preview`` runs it over sample events and checks the
outputs with the portal's own schema checks.
"""
