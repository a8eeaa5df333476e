"""README.ko.md, the Korean quick start, teaches the same commands as the README."""

from __future__ import annotations

import re
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FENCED_BASH = re.compile(r"```bash\n(.*?)```", re.S)


def commands(markdown: str) -> list[str]:
    """The commands of the ```bash blocks: continuation lines joined, comments and spacing
    dropped."""
    found = []
    for block in FENCED_BASH.findall(markdown):
        for command in block.replace("\\\n", " ").splitlines():
            command = re.sub(r"\s+#\s.*$", "", command)
            command = " ".join(command.split())
            if command and not command.startswith("#"):
                found.append(command)
    return found


def test_commands_are_parsed_from_bash_blocks():
    text = "x\n```bash\nmake a   # why\nrun b \\\n    --c d\n```\n`make e`\n"
    assert commands(text) == ["make a", "run b --c d"]


def test_every_korean_command_is_a_readme_command():
    korean = commands((PROJECT_ROOT / "README.ko.md").read_text(encoding="utf-8"))
    english = set(commands((PROJECT_ROOT / "README.md").read_text(encoding="utf-8")))
    assert len(korean) >= 8
    assert [command for command in korean if command not in english] == []
    for needed in ("make demo", "make airflow-up", "make backfill FROM=2026-02-10 TO=2026-02-16"):
        assert needed in korean


def test_the_readme_links_the_korean_quick_start_at_its_top():
    top = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:5]
    assert any("(README.ko.md)" in line for line in top), top
