{#- dbt's cross-database set operators and aggregate functions.

    A macro here calls its siblings through `dbt.` (never unqualified): a macro called by its
    bare name from its own file would bypass the `return` handling of the macro proxy. -#}

{#- `select ... {{ dbt.except() }} select ...`: the distinct rows of the first query that
    the second does not return. -#}
{% macro except() -%}
    {{ return(adapter.dispatch('except', 'dbt')()) }}
{%- endmacro %}

{% macro default__except() -%}
    except
{%- endmacro %}

{#- The distinct rows that both queries return. -#}
{% macro intersect() -%}
    {{ return(adapter.dispatch('intersect', 'dbt')()) }}
{%- endmacro %}

{% macro default__intersect() -%}
    intersect
{%- endmacro %}

{#- Some value of expression from the group (for a column that is constant in it). -#}
{% macro any_value(expression) -%}
    {{ return(adapter.dispatch('any_value', 'dbt')(expression)) }}
{%- endmacro %}

{% macro default__any_value(expression) -%}
    any_value({{ expression }})
{%- endmacro %}

{#- DuckDB's any_value skips NULLs, arbitrary does not; dbt-duckdb uses arbitrary
    (https://duckdb.org/docs/sql/functions/aggregates#arbitraryarg). -#}
{% macro duckdb__any_value(expression) -%}
    arbitrary({{ expression }})
{%- endmacro %}

{#- PostgreSQL has any_value from version 16 only; the first element of the group's array
    works before it and, unlike min(), for every type. -#}
{% macro postgres__any_value(expression) -%}
    (array_agg({{ expression }}))[1]
{%- endmacro %}

{#- True when expression is true for any row of the group. -#}
{% macro bool_or(expression) -%}
    {{ return(adapter.dispatch('bool_or', 'dbt')(expression)) }}
{%- endmacro %}

{% macro default__bool_or(expression) -%}
    bool_or({{ expression }})
{%- endmacro %}

{# ---- listagg --------------------------------------------------------------------------- #}

{#- The group's values of measure joined by delimiter_text (an SQL expression: "', '"),
    ordered by order_by_clause ("order by name desc") and cut to the first limit_num values.
    NULL values are skipped. -#}
{% macro listagg(measure, delimiter_text="','", order_by_clause=none, limit_num=none) -%}
    {{ return(adapter.dispatch('listagg', 'dbt')(measure, delimiter_text, order_by_clause, limit_num)) }}
{%- endmacro %}

{#- SQL:2016's LISTAGG, which has no limit. -#}
{% macro default__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num -%}
        {%- do exceptions.raise_compiler_error(
            "listagg with limit_num is not implemented for adapter '" ~ adapter.type() ~ "'") -%}
    {%- endif -%}
    listagg({{ measure }}, {{ delimiter_text }})
    {%- if order_by_clause %} within group ({{ order_by_clause }}){% endif -%}
{%- endmacro %}

{#- string_agg takes the order inside its parentheses; a limit slices the ordered array of
    the values that are not NULL (NULLs sort first in a descending PostgreSQL order, and would
    take places otherwise)
    (https://duckdb.org/docs/sql/functions/aggregates#order-by-clause-in-aggregate-functions). -#}
{% macro duckdb__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- set order = ' ' ~ order_by_clause if order_by_clause else '' -%}
    {%- if limit_num -%}
        array_to_string(list_slice(array_agg({{ measure }}{{ order }})
            filter (where ({{ measure }}) is not null), 1, {{ limit_num }}), {{ delimiter_text }})
    {%- else -%}
        string_agg({{ measure }}, {{ delimiter_text }}{{ order }})
    {%- endif -%}
{%- endmacro %}

{#- https://www.postgresql.org/docs/current/sql-expressions.html#SYNTAX-AGGREGATES -#}
{% macro postgres__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- set order = ' ' ~ order_by_clause if order_by_clause else '' -%}
    {%- if limit_num -%}
        array_to_string((array_agg({{ measure }}{{ order }})
            filter (where ({{ measure }}) is not null))[1:{{ limit_num }}], {{ delimiter_text }})
    {%- else -%}
        string_agg({{ measure }}, {{ delimiter_text }}{{ order }})
    {%- endif -%}
{%- endmacro %}

{#- Spark 4 has LISTAGG ... WITHIN GROUP, but no ordered array aggregate to cut: with a
    limit, the values are collected with their sort keys, sorted and sliced
    (https://spark.apache.org/docs/latest/api/sql/index.html#listagg,
    https://spark.apache.org/docs/latest/api/sql/index.html#sort_array). -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if not limit_num -%}
        listagg({{ measure }}, {{ delimiter_text }})
        {%- if order_by_clause %} within group ({{ order_by_clause }}){% endif -%}
    {%- else -%}
        {%- set keys, descending = dbt.kiln_order_by_keys(order_by_clause) -%}
        {%- set fields = [] -%}
        {%- for key in keys -%}
            {%- do fields.append("'k" ~ loop.index ~ "', " ~ key) -%}
        {%- endfor -%}
        {%- do fields.append("'v', " ~ measure) -%}
        array_join(slice(transform(
            filter(sort_array(collect_list(named_struct({{ fields | join(', ') }})),
                {{ 'false' if descending else 'true' }}), x -> x.v is not null),
            x -> x.v), 1, {{ limit_num }}), {{ delimiter_text }})
    {%- endif -%}
{%- endmacro %}

{#- (keys, descending) of "order by a, b desc", when all keys sort one way; ([], false)
    for none. Commas inside parentheses or quotes do not split keys. -#}
{% macro kiln_order_by_keys(order_by_clause) -%}
    {%- set text = (order_by_clause or '') | trim -%}
    {%- if text[:8] | lower == 'order by' -%}
        {%- set text = text[8:] -%}
    {%- endif -%}
    {%- set state = namespace(depth=0, quote=none, current='', pieces=[]) -%}
    {%- for char in text -%}
        {%- if state.quote -%}
            {%- if char == state.quote -%}{%- set state.quote = none -%}{%- endif -%}
        {%- elif char in ("'", '"') -%}
            {%- set state.quote = char -%}
        {%- elif char == '(' -%}
            {%- set state.depth = state.depth + 1 -%}
        {%- elif char == ')' -%}
            {%- set state.depth = state.depth - 1 -%}
        {%- endif -%}
        {%- if char == ',' and state.depth == 0 and not state.quote -%}
            {%- set state.pieces = state.pieces + [state.current] -%}
            {%- set state.current = '' -%}
        {%- else -%}
            {%- set state.current = state.current ~ char -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set pieces = state.pieces + [state.current] if state.current | trim else state.pieces -%}
    {%- set keys = [] -%}
    {%- set directions = [] -%}
    {%- for piece in pieces -%}
        {%- set words = piece | trim -%}
        {%- set lowered = words | lower -%}
        {%- if lowered.endswith(' desc') -%}
            {%- do keys.append(words[:-5] | trim) -%}{%- do directions.append(true) -%}
        {%- elif lowered.endswith(' asc') -%}
            {%- do keys.append(words[:-4] | trim) -%}{%- do directions.append(false) -%}
        {%- else -%}
            {%- do keys.append(words) -%}{%- do directions.append(false) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if directions | unique | list | length > 1 or 'nulls ' in text | lower -%}
        {%- do exceptions.raise_compiler_error(
            "listagg on Spark with limit_num sorts by keys that all go one way, without "
            ~ "NULLS FIRST/LAST; got '" ~ order_by_clause ~ "'") -%}
    {%- endif -%}
    {{ return((keys, directions[0] if directions else false)) }}
{%- endmacro %}
