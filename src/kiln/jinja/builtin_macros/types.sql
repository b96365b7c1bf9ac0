{#- dbt's cross-database type macros (`dbt.type_string()` ...) and casts.

    Each `type_*` macro dispatches, so a project or package can override one type for one
    adapter (`duckdb__type_string`). Their default implementations read the adapter's type
    names from one table per adapter, `<adapter>__kiln_type_labels`, which keeps a new
    adapter to one macro here. The names are those the dbt adapters produce, so compiled SQL
    matches dbt's: DuckDB and Spark spell them as written by dbt-duckdb and dbt-spark (which
    pass `api.Column.translate_type` through), PostgreSQL uses dbt's base labels.

    A macro here calls its siblings through `dbt.` (never unqualified): a macro called by its
    bare name from its own file would bypass the `return` handling of the macro proxy. -#}

{% macro kiln_type_label(kind) -%}
    {{ return(adapter.dispatch('kiln_type_labels', 'dbt')()[kind]) }}
{%- endmacro %}

{% macro default__kiln_type_labels() -%}
    {{ return({
        'string': 'TEXT',
        'timestamp': 'TIMESTAMP',
        'float': 'FLOAT',
        'numeric': 'numeric(28,6)',
        'bigint': 'bigint',
        'int': 'INT',
        'boolean': 'BOOLEAN',
    }) }}
{%- endmacro %}

{#- DuckDB's FLOAT is 4 bytes (https://duckdb.org/docs/sql/data_types/numeric), unlike
    PostgreSQL's, which is double precision: dbt-duckdb keeps `float` all the same. -#}
{% macro duckdb__kiln_type_labels() -%}
    {{ return({
        'string': 'TEXT',
        'timestamp': 'timestamp',
        'float': 'float',
        'numeric': 'numeric(28,6)',
        'bigint': 'bigint',
        'int': 'integer',
        'boolean': 'boolean',
    }) }}
{%- endmacro %}

{#- Spark has no TEXT type; STRING is its character type, and NUMERIC an alias of DECIMAL
    (https://spark.apache.org/docs/latest/sql-ref-datatypes.html). -#}
{% macro spark__kiln_type_labels() -%}
    {{ return({
        'string': 'string',
        'timestamp': 'timestamp',
        'float': 'float',
        'numeric': 'numeric(28,6)',
        'bigint': 'bigint',
        'int': 'integer',
        'boolean': 'boolean',
    }) }}
{%- endmacro %}

{% macro type_string() -%}
    {{ return(adapter.dispatch('type_string', 'dbt')()) }}
{%- endmacro %}

{% macro default__type_string() -%}
    {{ return(dbt.kiln_type_label('string')) }}
{%- endmacro %}

{% macro type_timestamp() -%}
    {{ return(adapter.dispatch('type_timestamp', 'dbt')()) }}
{%- endmacro %}

{% macro default__type_timestamp() -%}
    {{ return(dbt.kiln_type_label('timestamp')) }}
{%- endmacro %}

{% macro type_float() -%}
    {{ return(adapter.dispatch('type_float', 'dbt')()) }}
{%- endmacro %}

{% macro default__type_float() -%}
    {{ return(dbt.kiln_type_label('float')) }}
{%- endmacro %}

{% macro type_numeric() -%}
    {{ return(adapter.dispatch('type_numeric', 'dbt')()) }}
{%- endmacro %}

{% macro default__type_numeric() -%}
    {{ return(dbt.kiln_type_label('numeric')) }}
{%- endmacro %}

{% macro type_bigint() -%}
    {{ return(adapter.dispatch('type_bigint', 'dbt')()) }}
{%- endmacro %}

{% macro default__type_bigint() -%}
    {{ return(dbt.kiln_type_label('bigint')) }}
{%- endmacro %}

{% macro type_int() -%}
    {{ return(adapter.dispatch('type_int', 'dbt')()) }}
{%- endmacro %}

{% macro default__type_int() -%}
    {{ return(dbt.kiln_type_label('int')) }}
{%- endmacro %}

{% macro type_boolean() -%}
    {{ return(adapter.dispatch('type_boolean', 'dbt')()) }}
{%- endmacro %}

{% macro default__type_boolean() -%}
    {{ return(dbt.kiln_type_label('boolean')) }}
{%- endmacro %}

{#- `cast(field, type)`: `type` is a type name, such as `dbt.type_int()`. -#}
{% macro cast(field, type) -%}
    {{ return(adapter.dispatch('cast', 'dbt')(field, type)) }}
{%- endmacro %}

{% macro default__cast(field, type) -%}
    cast({{ field }} as {{ type }})
{%- endmacro %}

{#- `safe_cast(field, type)`: NULL where the value does not convert, on engines that can say
    so. PostgreSQL has no such cast before version 16, so there it is a plain cast and bad
    input fails the query, as in dbt-postgres. -#}
{% macro safe_cast(field, type) -%}
    {{ return(adapter.dispatch('safe_cast', 'dbt')(field, type)) }}
{%- endmacro %}

{% macro default__safe_cast(field, type) -%}
    cast({{ field }} as {{ type }})
{%- endmacro %}

{#- https://duckdb.org/docs/sql/expressions/cast#try_cast -#}
{% macro duckdb__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}

{#- https://spark.apache.org/docs/latest/api/sql/index.html#try_cast -#}
{% macro spark__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}
