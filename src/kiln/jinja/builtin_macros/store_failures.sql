{#- Whether a test stores its failing rows. Kept apart from tests.sql: a macro called from
    its own file would bypass the `return` handling of the macro proxy. -#}
{% macro should_store_failures() -%}
    {#- the config wins over the --store-failures flag; store_failures_as wins over both -#}
    {%- set store_as = config.get('store_failures_as') -%}
    {%- if store_as is not none -%}
        {%- do return(store_as | lower in ('table', 'view')) -%}
    {%- endif -%}
    {%- set configured = config.get('store_failures') -%}
    {%- do return(flags.STORE_FAILURES if configured is none else configured) -%}
{%- endmacro %}
