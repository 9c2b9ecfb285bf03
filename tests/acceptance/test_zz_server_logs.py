"""Last test of the session (conftest moves it there): no process of the acceptance run logged a traceback."""


def test_no_process_of_the_acceptance_run_logged_a_traceback(stack):
    files = stack.log_files()
    assert {f.stem for f in files} >= {"runserver", "gunicorn", "worker", "beat", "router"}
    found = []
    for path in files:
        lines = path.read_text(errors="replace").splitlines()
        for number, line in enumerate(lines, 1):
            if "Traceback" in line:
                context = "\n".join(lines[number - 1:number + 25])
                found.append(f"{path.name}:{number}:\n{context}")
    assert not found, "tracebacks in the server logs:\n\n" + "\n\n".join(found)
