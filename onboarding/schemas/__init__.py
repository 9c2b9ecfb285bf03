"""Schema text checks, diffs and sample-event checks for Avro, JSON Schema and Protobuf.

Pure logic (no database, no network) used by the portal's forms and API before anything reaches the registry:
``validation`` (is the text a valid schema; canonical form and fingerprint), ``diff`` (what changed, and why it
would break consumers) and ``events`` (does a sample event fit).
"""
