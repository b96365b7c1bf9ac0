{#- Converts an integer amount in cents to a currency amount with two decimals. -#}
{% macro cents_to_currency(column_name, scale=2) -%}
    cast({{ column_name }} / 100 as decimal(12, {{ scale }}))
{%- endmacro %}
