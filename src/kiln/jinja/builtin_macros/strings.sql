{#- dbt's cross-database string macros. Arguments are SQL expressions: a text value is
    passed quoted, `dbt.length("'hello'")`, a column bare, `dbt.length('name')`.

    A macro here calls its siblings through `dbt.` (never unqualified): a macro called by its
    bare name from its own file would bypass the `return` handling of the macro proxy. -#}

{#- `concat(fields)`: a list of expressions; NULL when any of them is NULL. -#}
{% macro concat(fields) -%}
    {{ return(adapter.dispatch('concat', 'dbt')(fields)) }}
{%- endmacro %}

{% macro default__concat(fields) -%}
    {{ fields | join(' || ') }}
{%- endmacro %}

{#- The MD5 of the value as text, as 32 lower-case hex digits. -#}
{% macro hash(field) -%}
    {{ return(adapter.dispatch('hash', 'dbt')(field)) }}
{%- endmacro %}

{% macro default__hash(field) -%}
    md5(cast({{ field }} as {{ dbt.type_string() }}))
{%- endmacro %}

{% macro length(expression) -%}
    {{ return(adapter.dispatch('length', 'dbt')(expression)) }}
{%- endmacro %}

{% macro default__length(expression) -%}
    length({{ expression }})
{%- endmacro %}

{#- The 1-based place of substring_text in string_text; 0 where it does not occur. -#}
{% macro position(substring_text, string_text) -%}
    {{ return(adapter.dispatch('position', 'dbt')(substring_text, string_text)) }}
{%- endmacro %}

{% macro default__position(substring_text, string_text) -%}
    position({{ substring_text }} in {{ string_text }})
{%- endmacro %}

{% macro replace(field, old_chars, new_chars) -%}
    {{ return(adapter.dispatch('replace', 'dbt')(field, old_chars, new_chars)) }}
{%- endmacro %}

{% macro default__replace(field, old_chars, new_chars) -%}
    replace({{ field }}, {{ old_chars }}, {{ new_chars }})
{%- endmacro %}

{#- The last length_expression characters of string_text. -#}
{% macro right(string_text, length_expression) -%}
    {{ return(adapter.dispatch('right', 'dbt')(string_text, length_expression)) }}
{%- endmacro %}

{% macro default__right(string_text, length_expression) -%}
    right({{ string_text }}, {{ length_expression }})
{%- endmacro %}

{#- The part_number-th piece of string_text cut at delimiter_text, counting from 1; a
    negative part_number counts from the end. -#}
{% macro split_part(string_text, delimiter_text, part_number) -%}
    {{ return(adapter.dispatch('split_part', 'dbt')(string_text, delimiter_text, part_number)) }}
{%- endmacro %}

{#- PostgreSQL 14+ and Spark 3.3+ take negative parts; a part past the end is ''
    (https://www.postgresql.org/docs/current/functions-string.html,
    https://spark.apache.org/docs/latest/api/sql/index.html#split_part). -#}
{% macro default__split_part(string_text, delimiter_text, part_number) -%}
    split_part({{ string_text }}, {{ delimiter_text }}, {{ part_number }})
{%- endmacro %}

{#- Indexing the list of pieces, as dbt-duckdb does: a part past the end is NULL there
    (https://duckdb.org/docs/sql/functions/list#list_extractlist-index). -#}
{% macro duckdb__split_part(string_text, delimiter_text, part_number) -%}
    (string_split({{ string_text }}, {{ delimiter_text }}))[{{ part_number }}]
{%- endmacro %}

{#- The text with its single quotes escaped, to splice inside a quoted SQL string. -#}
{% macro escape_single_quotes(expression) -%}
    {{ return(adapter.dispatch('escape_single_quotes', 'dbt')(expression)) }}
{%- endmacro %}

{% macro default__escape_single_quotes(expression) -%}
    {{ expression | replace("'", "''") }}
{%- endmacro %}

{#- Spark reads 'it''s' as two adjacent literals ('it' 's' = 'its'); it escapes with a
    backslash (https://spark.apache.org/docs/latest/sql-ref-literals.html#string-literal). -#}
{% macro spark__escape_single_quotes(expression) -%}
    {{ expression | replace("'", "\\'") }}
{%- endmacro %}

{#- `string_literal(value)`: the value in single quotes (not escaped). -#}
{% macro string_literal(value) -%}
    {{ return(adapter.dispatch('string_literal', 'dbt')(value)) }}
{%- endmacro %}

{% macro default__string_literal(value) -%}
    '{{ value }}'
{%- endmacro %}

{% macro cast_bool_to_text(field) -%}
    {{ return(adapter.dispatch('cast_bool_to_text', 'dbt')(field)) }}
{%- endmacro %}

{% macro default__cast_bool_to_text(field) -%}
    cast({{ field }} as {{ dbt.type_string() }})
{%- endmacro %}

{#- `equals(expr1, expr2)`: SQL equality, so NULL where either side is NULL (dbt's default,
    without its `enable_truthy_nulls_equals_macro` behavior flag). -#}
{% macro equals(expr1, expr2) -%}
    {{ return(adapter.dispatch('equals', 'dbt')(expr1, expr2)) }}
{%- endmacro %}

{% macro default__equals(expr1, expr2) -%}
    ({{ expr1 }} = {{ expr2 }})
{%- endmacro %}
