{#- dbt's cross-database array macros. Elements are SQL expressions of one type.

    A macro here calls its siblings through `dbt.` (never unqualified): a macro called by its
    bare name from its own file would bypass the `return` handling of the macro proxy. -#}

{#- An array of the inputs; with none, an empty array of data_type elements. -#}
{% macro array_construct(inputs=[], data_type=dbt.type_int()) -%}
    {{ return(adapter.dispatch('array_construct', 'dbt')(inputs, data_type)) }}
{%- endmacro %}

{% macro default__array_construct(inputs, data_type) -%}
    {%- if inputs | length > 0 -%}
        array[{{ inputs | join(', ') }}]
    {%- else -%}
        cast(array[] as {{ data_type }}[])
    {%- endif -%}
{%- endmacro %}

{#- https://spark.apache.org/docs/latest/api/sql/index.html#array -#}
{% macro spark__array_construct(inputs, data_type) -%}
    {%- if inputs | length > 0 -%}
        array({{ inputs | join(', ') }})
    {%- else -%}
        cast(array() as array<{{ data_type }}>)
    {%- endif -%}
{%- endmacro %}

{#- The array with new_element (of the array's element type) added at the end. -#}
{% macro array_append(array, new_element) -%}
    {{ return(adapter.dispatch('array_append', 'dbt')(array, new_element)) }}
{%- endmacro %}

{% macro default__array_append(array, new_element) -%}
    array_append({{ array }}, {{ new_element }})
{%- endmacro %}

{#- The elements of array_1, then those of array_2. -#}
{% macro array_concat(array_1, array_2) -%}
    {{ return(adapter.dispatch('array_concat', 'dbt')(array_1, array_2)) }}
{%- endmacro %}

{% macro default__array_concat(array_1, array_2) -%}
    array_cat({{ array_1 }}, {{ array_2 }})
{%- endmacro %}

{#- https://spark.apache.org/docs/latest/api/sql/index.html#concat -#}
{% macro spark__array_concat(array_1, array_2) -%}
    concat({{ array_1 }}, {{ array_2 }})
{%- endmacro %}
