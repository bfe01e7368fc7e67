#!/usr/bin/env python3
"""Execute notebooks headlessly with the real evcxr kernel and fail on any cell error.

Usage: scripts/run_notebooks.py [--write] [NOTEBOOK ...]   (default: notebooks/*.ipynb tutorials/*.ipynb)

--write stores the executed notebook (with outputs) back in place; without it the committed file is untouched.
Each notebook runs with its own folder as the kernel's working directory (so `:dep` by relative path works).
"""
import glob
import os
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def run(path: str, write: bool) -> float:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name="rust",
        timeout=int(os.environ.get("LOT_NB_CELL_TIMEOUT", "1800")),
        record_timing=True,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}},
    )
    start = time.time()
    try:
        client.execute()
    except CellExecutionError:
        # evcxr's compile errors reach the error output with an empty traceback: show what the cells said.
        for cell in nb.cells:
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error" or out.get("name") == "stderr":
                    print("".join(out.get("traceback", [])) or out.get("evalue", "") or out.get("text", ""), flush=True)
        raise
    elapsed = time.time() - start
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                raise CellExecutionError.from_cell_and_msg(cell, out)
            # evcxr reports compile errors as stderr streams / plain text, not always as "error" outputs
            text = out.get("text", "") if out.get("output_type") == "stream" else ""
            if out.get("name") == "stderr" and ("error[E" in text or "error:" in text):
                raise RuntimeError(f"{path}: compile error in cell:\n{cell.source}\n---\n{text}")
    if write:
        nbformat.write(nb, path)
    return elapsed


def main() -> int:
    args = sys.argv[1:]
    write = "--write" in args
    paths = [a for a in args if a != "--write"]
    if not paths:
        paths = sorted(glob.glob("notebooks/*.ipynb")) + sorted(glob.glob("tutorials/*.ipynb"))
    failed = []
    for path in paths:
        print(f"notebook {path} ...", flush=True)
        try:
            secs = run(path, write)
            print(f"notebook {path}: ok in {secs:.1f} s", flush=True)
        except Exception as exc:  # report every failing notebook, then fail
            print(f"notebook {path}: FAILED\n{exc}", flush=True)
            failed.append(path)
    print(f"notebooks: {len(paths) - len(failed)} passed, {len(failed)} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
