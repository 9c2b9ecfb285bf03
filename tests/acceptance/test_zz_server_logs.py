"""Last test of the session (conftest moves it there): no process of the acceptance run logged a traceback."""


def test_no_process_of_the_acceptance_run_logged_a_traceback(stack):
    files = stack.log_files()
    assert {f.stem for f in files} >= {"runserver", "gunicorn", "worker", "beat", "router", "gateway", "mapper"}
    found = []
    for path in files:
        lines = path.read_text(errors="replace").splitlines()
        for number, line in enumerate(lines, 1):
            if "Traceback" in line:
                if line.lstrip().startswith("{"):  # a JSON log line carries the whole traceback
                    found.append(f"{path.name}:{number}: {line[:600]}")
                    continue
                # In a text log the exception is the first line after the indented frames.
                raised = next((later for later in lines[number:] if later and not later.startswith(" ")), "")
                found.append(f"{path.name}:{number}: {raised}")
    assert not found, "tracebacks in the server logs:\n\n" + "\n\n".join(found)
