"""Data-driven selection tests: `fixtures/*.txt` files of input -> expected output.

Each file is a list of blocks separated by blank lines; `#` lines are comments. The
first line of a block is the input, the indented lines below it the expected output:

* `select.txt`: the input is a selection expression (run as `ls --resource-type all
  --select <expression>`) or, when it starts with `-` or a command name, a command
  line; the output is the selected ids as `type:name` (tests without their hash), or
  `(nothing)`.
* `grammar.txt`: the input is an expression; the output is the `repr` of its AST.
* `errors.txt`: the input is as in `select.txt`; the output is the error message.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from select_factories import short

from kiln.errors import SelectionError
from kiln.select import COMMANDS, parse

FIXTURES = Path(__file__).parent / "fixtures"


def blocks(name: str) -> Iterator[tuple[str, list[str]]]:
    """(input line, expected lines without their indentation) for each block of a file."""
    text = (FIXTURES / name).read_text()
    for chunk in text.split("\n\n"):
        lines = [line for line in chunk.splitlines() if not line.startswith("#")]
        if lines:
            yield lines[0], [line[4:] for line in lines[1:]]


def cases(name: str) -> list[object]:
    return [pytest.param(head, body, id=head) for head, body in blocks(name)]


def command_line(head: str) -> list[str]:
    words = shlex.split(head)
    if head.startswith("-") or words[0] in COMMANDS:
        return words
    return ["ls", "--resource-type", "all", "--select", head]


@pytest.mark.parametrize(("head", "expected"), cases("select.txt"))
def test_select(
    head: str, expected: list[str], run_ls: Callable[[Sequence[str]], frozenset[str]]
) -> None:
    assert short(run_ls(command_line(head))) == ([] if expected == ["(nothing)"] else expected)


@pytest.mark.parametrize(("head", "expected"), cases("grammar.txt"))
def test_grammar(head: str, expected: list[str]) -> None:
    assert repr(parse(head)) == " ".join(line.strip() for line in expected)


@pytest.mark.parametrize(("head", "expected"), cases("errors.txt"))
def test_errors(
    head: str, expected: list[str], run_ls: Callable[[Sequence[str]], frozenset[str]]
) -> None:
    with pytest.raises(SelectionError) as caught:
        run_ls(command_line(head))
    assert caught.value.message == "\n".join(expected)
