"""Selection expressions: a lexer with source offsets and a recursive-descent parser.

The grammar is dbt's (`graph/selector_spec.py`, `graph/cli.py`), written as a grammar
rather than one regex so that every error can point at its token:

    union     := inter ( WS+ inter )*            space = union
    inter     := atom ( "," atom )*              comma = intersection
    atom      := "@"? ( DIGITS? "+" )? criterion ( "+" DIGITS? )?
    criterion := ( METHOD ( "." ARG )* ":" )? VALUE

Without a method, a value holding a path separator is a `path`, one ending in
`.sql`/`.py`/`.csv` is a `file`, anything else an `fqn`. `@` with a trailing `+` is an
error, and so is a depth that is not a number (`x+abc`).
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from kiln.errors import SelectionError
from kiln.select.ast import ALL, Criterion, Depth, Intersection, Node, Span, Union
from kiln.select.errors import error_at, unknown_choice
from kiln.select.methods import METHOD_NAMES, METHODS_WITH_ARGS

_METHOD_PREFIX = re.compile(r"[\w.]*")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FILE_SUFFIXES = (".sql", ".py", ".csv")
_PATH_SEPARATORS = tuple({"/", os.sep, os.altsep or "/"})


class TokenKind(enum.StrEnum):
    """The kinds of token in a selection expression."""

    TEXT = "text"
    PLUS = "+"
    COMMA = ","
    AT = "@"
    SPACE = "space"
    EOF = "end"


@dataclass(frozen=True, slots=True)
class Token:
    """One token and where it sits in the source."""

    kind: TokenKind
    text: str
    start: int
    end: int


def tokenize(source: str) -> list[Token]:
    """Split an expression into tokens, ending with an EOF token.

    `@` is an operator only where an atom starts; elsewhere it is part of a value.

    Example:
        >>> [(t.kind.name, t.text) for t in tokenize("@a+ b,2+c")]  # doctest: +NORMALIZE_WHITESPACE
        [('AT', '@'), ('TEXT', 'a'), ('PLUS', '+'), ('SPACE', ' '), ('TEXT', 'b'),
         ('COMMA', ','), ('TEXT', '2'), ('PLUS', '+'), ('TEXT', 'c'), ('EOF', '')]
    """
    tokens: list[Token] = []
    pos, size = 0, len(source)
    while pos < size:
        char = source[pos]
        end = pos + 1
        if char.isspace():
            while end < size and source[end].isspace():
                end += 1
            kind = TokenKind.SPACE
        elif char in "+,":
            kind = TokenKind.PLUS if char == "+" else TokenKind.COMMA
        elif char == "@" and (not tokens or tokens[-1].kind in _ATOM_STARTS):
            kind = TokenKind.AT
        else:
            while end < size and not _ends_text(source[end]):
                end += 1
            kind = TokenKind.TEXT
        tokens.append(Token(kind, source[pos:end], pos, end))
        pos = end
    tokens.append(Token(TokenKind.EOF, "", size, size))
    return tokens


_ATOM_STARTS = (TokenKind.SPACE, TokenKind.COMMA)
_ATOM_ENDS = (TokenKind.SPACE, TokenKind.COMMA, TokenKind.EOF)


def _ends_text(char: str) -> bool:
    return char.isspace() or char in "+,"


def implicit_method(value: str) -> str:
    """The method dbt assumes for a value written without one.

    Example:
        >>> implicit_method("models/staging"), implicit_method("a.SQL"), implicit_method("a.b")
        ('path', 'file', 'fqn')
    """
    if any(sep in value for sep in _PATH_SEPARATORS):
        return "path"
    if value.lower().endswith(_FILE_SUFFIXES):
        return "file"
    return "fqn"


def parse(source: str, *, origin: str | None = None) -> Node:
    """Parse one selection expression (one `--select` argument) into an AST.

    Args:
        source: the expression, e.g. `"+tag:nightly,config.materialized:table orders"`.
        origin: where the text came from, named in error messages.

    Returns:
        A `Criterion`, or a `Union`/`Intersection` when there are several items.

    Raises:
        SelectionError: the expression is malformed; the message points at the token.

    Example:
        >>> parse("tag:a,b")  # doctest: +NORMALIZE_WHITESPACE
        Intersection(items=(Criterion(method='tag', args=(), value='a', parents=None,
        children=None, childrens_parents=False, span=(0, 5), indirect=None),
        Criterion(method='fqn', args=(), value='b', parents=None, children=None,
        childrens_parents=False, span=(6, 7), indirect=None)), span=(0, 7), indirect=None)
    """
    return _Parser(source, origin).parse()


def parse_all(sources: Sequence[str], *, origin: str | None = None) -> Node:
    """Parse several `--select` arguments; their union is the selection.

    Raises:
        SelectionError: an argument is malformed, or there is none.
    """
    if not sources:
        raise SelectionError("no selection expression given")
    nodes = tuple(parse(text, origin=origin) for text in sources)
    return nodes[0] if len(nodes) == 1 else Union(nodes, (0, 0))


class _Parser:
    """Recursive descent over the token list; one instance per expression."""

    def __init__(self, source: str, origin: str | None) -> None:
        self.source = source
        self.origin = origin
        self.tokens = tokenize(source)
        self.pos = 0

    @property
    def tok(self) -> Token:
        """The current token."""
        return self.tokens[self.pos]

    def peek(self, ahead: int) -> Token:
        """The token `ahead` places on (EOF past the end)."""
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def at(self, *kinds: TokenKind) -> bool:
        """Whether the current token is of one of `kinds`."""
        return self.tok.kind in kinds

    def advance(self) -> Token:
        """Consume and return the current token."""
        token = self.tok
        self.pos = min(self.pos + 1, len(self.tokens) - 1)
        return token

    def error(self, message: str, span: Span) -> SelectionError:
        """An error with a caret under `span`."""
        return error_at(message, self.source, span, origin=self.origin)

    def parse(self) -> Node:
        """union := inter ( WS+ inter )*"""
        self.skip_space()
        if self.at(TokenKind.EOF):
            raise self.error("empty selection expression", (0, len(self.source)))
        items = [self.parse_intersection()]
        while self.skip_space() and not self.at(TokenKind.EOF):
            items.append(self.parse_intersection())
        if not self.at(TokenKind.EOF):
            raise self.error(f"unexpected {self.tok.text!r}", (self.tok.start, self.tok.end))
        if len(items) == 1:
            return items[0]
        return Union(tuple(items), (_start(items[0]), _end(items[-1])))

    def skip_space(self) -> bool:
        """Skip whitespace; whether there was any."""
        skipped = False
        while self.at(TokenKind.SPACE):
            self.advance()
            skipped = True
        return skipped

    def parse_intersection(self) -> Node:
        """inter := atom ( "," atom )*"""
        items: list[Node] = [self.parse_atom()]
        while self.at(TokenKind.COMMA):
            comma = self.advance()
            if self.at(*_ATOM_ENDS):
                raise self.error("expected a selector after ','", (comma.end, comma.end))
            items.append(self.parse_atom())
        if len(items) == 1:
            return items[0]
        return Intersection(tuple(items), (_start(items[0]), _end(items[-1])))

    def parse_atom(self) -> Criterion:
        """atom := "@"? ( DIGITS? "+" )? criterion ( "+" DIGITS? )?"""
        start = self.tok.start
        at = self.at(TokenKind.AT)
        if at:
            self.advance()
        parents = self.parse_parents()
        if not self.at(TokenKind.TEXT):
            what = "end of expression" if self.at(TokenKind.EOF) else repr(self.tok.text)
            raise self.error(f"expected a selector, found {what}", (self.tok.start, self.tok.end))
        text = self.advance()
        children, children_span = self.parse_children()
        if at and children is not None:
            message = "'@' cannot be combined with a trailing '+' (use '@x' or '+x+')"
            raise self.error(message, children_span)
        method, args, value, value_span = self.split_criterion(text)
        return Criterion(
            method,
            args,
            value,
            parents,
            children,
            at,
            (start, self.tokens[self.pos - 1].end),
            value_span=value_span,
            source=self.source,
            origin=self.origin,
        )

    def parse_parents(self) -> Depth | None:
        """The leading `+` or `n+`, if any."""
        if self.at(TokenKind.PLUS):
            self.advance()
            return ALL
        # `2+x` is a depth, but `2+` alone is the model named "2" with its children
        if (
            self.at(TokenKind.TEXT)
            and self.tok.text.isdigit()
            and self.peek(1).kind is TokenKind.PLUS
            and self.peek(2).kind is TokenKind.TEXT
        ):
            depth = int(self.advance().text)
            self.advance()
            return depth
        return None

    def parse_children(self) -> tuple[Depth | None, Span]:
        """The trailing `+` or `+n`, if any, and where it is."""
        if not self.at(TokenKind.PLUS):
            return None, (0, 0)
        plus = self.advance()
        depth: Depth = ALL
        end = plus.end
        if self.at(TokenKind.TEXT):
            digits = self.advance()
            if not digits.text.isdigit():
                message = f"invalid depth {digits.text!r} after '+': expected a number"
                raise self.error(message, (digits.start, digits.end))
            depth, end = int(digits.text), digits.end
        if not self.at(*_ATOM_ENDS):
            raise self.error(f"unexpected {self.tok.text!r}", (self.tok.start, self.tok.end))
        return depth, (plus.start, end)

    def split_criterion(self, token: Token) -> tuple[str, tuple[str, ...], str, Span]:
        """criterion := ( METHOD ( "." ARG )* ":" )? VALUE"""
        text, base = token.text, token.start
        colon = text.find(":")
        if colon < 0 or not _METHOD_PREFIX.fullmatch(text[:colon]):
            return implicit_method(text), (), text, (token.start, token.end)
        name, *args = text[:colon].split(".")
        self.check_method(name, args, base)
        if colon == len(text) - 1:
            raise self.error(f"expected a value after {text!r}", (token.end, token.end))
        return name, tuple(args), text[colon + 1 :], (base + colon + 1, token.end)

    def check_method(self, name: str, args: list[str], base: int) -> None:
        """Raise, pointing at the name or the arguments, if the method is invalid."""
        problem = method_problem(name, args)
        if problem is not None:
            message, about_args = problem
            end = base + len(name)
            span = (end, end + sum(len(a) + 1 for a in args)) if about_args else (base, end)
            raise self.error(message, span)


def method_problem(name: str, args: Sequence[str]) -> tuple[str, bool] | None:
    """What is wrong with a method name and its dotted arguments, if anything.

    Returns:
        None when valid, else the message and whether it is about the arguments
        (rather than the name).

    Example:
        >>> method_problem("tag", ())
        >>> method_problem("tag", ("x",))
        ("method 'tag' takes no '.' arguments", True)
    """
    if not name:
        return "expected a method name before ':'", False
    if name not in METHOD_NAMES or not _IDENTIFIER.fullmatch(name):
        return unknown_choice("selection method", name, METHOD_NAMES), False
    if args and name not in METHODS_WITH_ARGS:
        return f"method {name!r} takes no '.' arguments", True
    if not args and name in METHODS_WITH_ARGS:
        return f"method {name!r} needs a key, e.g. {name}.materialized:table", False
    if any(not arg for arg in args):
        return f"empty argument in '{'.'.join((name, *args))}'", True
    return None


def _start(node: Node) -> int:
    return node.span[0]


def _end(node: Node) -> int:
    return node.span[1]
