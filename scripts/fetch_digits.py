#!/usr/bin/env python3
"""Exports scikit-learn's copy of the UCI 8x8 handwritten digits to data/digits/*.npy.

Run from anywhere: `python3 scripts/fetch_digits.py` (or `.venv/bin/python scripts/fetch_digits.py`).
scikit-learn is not a dependency of the crate: when it is missing, this script installs it (with
numpy) into the repository's `.venv` (created if absent) and re-runs itself there. The data set
ships inside the scikit-learn wheel (`sklearn/datasets/data/digits.csv.gz`), so after the install
no further download happens.

Writes
  data/digits/x.npy      float32 [1797, 64]  pixel values 0..16 divided by 16 (row-major 8x8 images)
  data/digits/label.npy  int64   [1797]      the digit 0..9 of each image
  data/digits/README.md  where the data comes from
"""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "data", "digits")
VENV = os.path.join(ROOT, ".venv")
VENV_PYTHON = os.path.join(VENV, "bin", "python")

README = """# UCI 8x8 handwritten digits

Written by `scripts/fetch_digits.py`; the `.npy` files are not committed (see `.gitignore`).

Source: the "Optical Recognition of Handwritten Digits" data set of the UCI Machine Learning
Repository (E. Alpaydin, C. Kaynak, 1998, https://archive.ics.uci.edu/dataset/80), test part, as
shipped by scikit-learn (`sklearn.datasets.load_digits`, scikit-learn {version}). 1797 images of
8x8 pixels, 32x32 bitmaps of 43 writers counted in 4x4 blocks, so each pixel is an integer 0..16.
License: CC BY 4.0.

| file | shape | dtype | content |
|---|---|---|---|
| `x.npy` | `[1797, 64]` | float32 | pixels / 16, in [0, 1], row-major 8x8 (row 0 at the top) |
| `label.npy` | `[1797]` | int64 | digit 0..9 |

Used by `lot reproduce hota-digits` and `tutorials/image_translation.ipynb`.
"""


def ensure_sklearn():
    try:
        import numpy  # noqa: F401
        import sklearn  # noqa: F401
        return
    except ImportError:
        pass
    if os.path.realpath(sys.prefix) != os.path.realpath(VENV):
        if not os.path.exists(VENV_PYTHON):
            print(f"fetch_digits: creating {VENV}", file=sys.stderr)
            subprocess.check_call([sys.executable, "-m", "venv", VENV])
        print("fetch_digits: re-running inside .venv", file=sys.stderr)
        os.execv(VENV_PYTHON, [VENV_PYTHON, os.path.abspath(__file__)] + sys.argv[1:])
    print("fetch_digits: installing scikit-learn into .venv", file=sys.stderr)
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", "scikit-learn"])


def main():
    ensure_sklearn()
    import numpy as np
    import sklearn
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    label = digits.target.astype(np.int64)
    assert x.shape == (1797, 64) and label.shape == (1797,), (x.shape, label.shape)
    assert 0.0 <= x.min() and x.max() <= 1.0
    os.makedirs(OUT, exist_ok=True)
    for name, array in [("x.npy", x), ("label.npy", label)]:
        tmp = os.path.join(OUT, f".{name}.tmp")
        with open(tmp, "wb") as f:
            np.save(f, array)
        os.replace(tmp, os.path.join(OUT, name))
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write(README.format(version=sklearn.__version__))
    counts = np.bincount(label, minlength=10)
    print(f"fetch_digits: wrote {OUT}/x.npy {x.shape} and label.npy; images per digit {counts.tolist()}")


if __name__ == "__main__":
    main()
