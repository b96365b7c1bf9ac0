"""The fast scanner agrees with the Jinja-AST extraction wherever it answers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kiln.jinja.environment import parse_ast
from kiln.manifest.nodes import RefCall
from kiln.parse.fast_scan import fast_extract
from kiln.parse.static import extract

SHOP = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "projects" / "shop"
GENPROJECT = Path(__file__).resolve().parents[3] / "shared" / "bench" / "genproject.py"


def _same_as_ast(text: str) -> bool:
    fast = fast_extract(text)
    if fast is None:
        return False
    slow = extract(parse_ast(text, "x.sql"))
    assert slow is not None
    assert (fast.refs, fast.sources, fast.configs, fast.macro_calls, fast.uses_is_incremental) == (
        slow.refs, slow.sources, slow.configs, slow.macro_calls, slow.uses_is_incremental
    )  # fmt: skip
    return True


def test_literal_calls_are_read_without_the_ast() -> None:
    text = (
        "{{ config(materialized='incremental', unique_key=['a', 'b'], enabled=true) }}\n"
        "-- depends_on: {{ ref('seed_a') }}\n"
        "select {{ cents('x', 2) }} from {{ ref('pkg', 'm', v=2) }}"
        " join {{ source('raw', 'orders') }} using (id)\n"
        "{% if is_incremental() %} where x > (select max(x) from {{ this }}) {% endif %}"
    )
    found = fast_extract(text)
    assert found is not None
    assert found.refs == [RefCall("seed_a"), RefCall("m", "pkg", 2)]
    assert found.sources == [("raw", "orders")]
    assert found.configs == {"materialized": "incremental", "unique_key": ["a", "b"],
                             "enabled": True}  # fmt: skip
    assert found.macro_calls == ["cents"]
    assert found.uses_is_incremental
    assert _same_as_ast(text)


@pytest.mark.parametrize(
    "text",
    [
        "{{ ref(var('x')) }}",  # not literal
        "{% set x = 1 %}{{ ref('a') }}",  # a statement the scanner does not model
        '{{ config(post_hook="update {{ this }} set a = 1") }}',  # nested tag in a string
        "{% if x %}select 1",  # unbalanced block: the Jinja parser reports it
        "{{ foo( }}",  # syntax error
        "{{ exceptions.raise_compiler_error('no') }}",  # must render at parse time
        "{% macro m() %}{% endmacro %}",
    ],
)
def test_anything_unusual_is_left_to_the_ast(text: str) -> None:
    assert fast_extract(text) is None


def test_filters_and_methods_are_not_macro_calls() -> None:
    text = "{{ var('cols') | join(', ') }} {{ 'a,b'.split(',') }} {{ my_macro() }}"
    found = fast_extract(text)
    assert found is not None and found.macro_calls == ["my_macro"]


def test_calls_through_a_name_are_kept_with_their_owner() -> None:
    # `pkg.macro()` and `variable.method()` look alike: the parser keeps those whose owner
    # is a package; deeper chains are never macro calls
    text = (
        "{{ dbt_utils.star(ref('a')) }} {{ model.get('x') }} {{ a.b.c() }} {{ adapter.quote('x') }}"
    )
    found = fast_extract(text)
    assert found is not None and found.macro_calls == ["dbt_utils.star", "model.get"]
    assert _same_as_ast(text)


def test_agrees_with_the_ast_on_the_shop_project() -> None:
    answered = 0
    for path in sorted(SHOP.rglob("*.sql")):
        answered += _same_as_ast(path.read_text())
    assert answered >= 10


def test_agrees_with_the_ast_on_a_generated_project(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(GENPROJECT), "--models", "300", str(tmp_path / "p")],
                   check=True, capture_output=True)  # fmt: skip
    files = sorted((tmp_path / "p" / "models").rglob("*.sql"))
    answered = sum(_same_as_ast(f.read_text()) for f in files)
    assert answered >= len(files) * 0.9
