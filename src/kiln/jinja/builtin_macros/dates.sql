{#- dbt's cross-database date and time macros, and the current_timestamp family.

    `datepart` is a unit name: year, quarter, month, week, day, hour, minute, second,
    millisecond or microsecond (or its plural). Weeks start on Sunday where a boundary is
    counted (datediff).

    A macro here calls its siblings through `dbt.` (never unqualified): a macro called by its
    bare name from its own file would bypass the `return` handling of the macro proxy. -#}

{% macro kiln_datepart(datepart) -%}
    {%- set part = datepart | string | trim | lower -%}
    {%- set parts = ['year', 'quarter', 'month', 'week', 'day', 'hour', 'minute', 'second',
                     'millisecond', 'microsecond'] -%}
    {%- if part not in parts and part[:-1] in parts and part[-1:] == 's' -%}
        {%- set part = part[:-1] -%}
    {%- endif -%}
    {%- if part not in parts -%}
        {%- do exceptions.raise_compiler_error(
            "unsupported datepart '" ~ datepart ~ "': use one of " ~ parts | join(', ')) -%}
    {%- endif -%}
    {{ return(part) }}
{%- endmacro %}

{# ---- dateadd ------------------------------------------------------------------------- #}

{% macro dateadd(datepart, interval, from_date_or_timestamp) -%}
    {{ return(adapter.dispatch('dateadd', 'dbt')(datepart, interval, from_date_or_timestamp)) }}
{%- endmacro %}

{#- Interval arithmetic (DuckDB, PostgreSQL): the result is a timestamp. PostgreSQL reads
    `interval '1' millisecond` as one second and takes no quarter in an interval string, so
    the unit goes inside the string and a quarter is three months
    (https://www.postgresql.org/docs/current/datatype-datetime.html#DATATYPE-INTERVAL-INPUT). -#}
{% macro default__dateadd(datepart, interval, from_date_or_timestamp) -%}
    {%- set part = dbt.kiln_datepart(datepart) -%}
    {%- set step = '3 month' if part == 'quarter' else '1 ' ~ part -%}
    ({{ from_date_or_timestamp }} + cast({{ interval }} as bigint) * interval '{{ step }}')
{%- endmacro %}

{#- https://spark.apache.org/docs/latest/api/sql/index.html#timestampadd -#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    {%- set part = dbt.kiln_datepart(datepart) -%}
    timestampadd({{ part | upper }}, {{ interval }}, {{ from_date_or_timestamp }})
{%- endmacro %}

{# ---- datediff ------------------------------------------------------------------------ #}

{#- The number of datepart boundaries crossed going from first_date to second_date
    (negative when second_date is earlier), as Snowflake's and Redshift's DATEDIFF count. -#}
{% macro datediff(first_date, second_date, datepart) -%}
    {{ return(adapter.dispatch('datediff', 'dbt')(first_date, second_date, datepart)) }}
{%- endmacro %}

{#- Field arithmetic (PostgreSQL): calendar parts from the fields, weeks from days since a
    Sunday, sub-day parts from the epoch, which for a timestamp without time zone is its
    wall-clock time read as UTC (https://www.postgresql.org/docs/current/functions-datetime.html). -#}
{% macro default__datediff(first_date, second_date, datepart) -%}
    {%- set part = dbt.kiln_datepart(datepart) -%}
    {%- set a = 'cast(' ~ first_date ~ ' as timestamp)' -%}
    {%- set b = 'cast(' ~ second_date ~ ' as timestamp)' -%}
    {%- set years = '(extract(year from ' ~ b ~ ') - extract(year from ' ~ a ~ '))' -%}
    {%- set epoch_scale = {'hour': ' / 3600', 'minute': ' / 60', 'second': '',
                           'millisecond': ' * 1000', 'microsecond': ' * 1000000'} -%}
    cast(
    {%- if part == 'year' -%}
        {{ years }}
    {%- elif part == 'quarter' -%}
        {{ years }} * 4 + extract(quarter from {{ b }}) - extract(quarter from {{ a }})
    {%- elif part == 'month' -%}
        {{ years }} * 12 + extract(month from {{ b }}) - extract(month from {{ a }})
    {%- elif part == 'week' -%}
        floor((cast({{ b }} as date) - date '1970-01-04') / 7.0)
        - floor((cast({{ a }} as date) - date '1970-01-04') / 7.0)
    {%- elif part == 'day' -%}
        cast({{ b }} as date) - cast({{ a }} as date)
    {%- else -%}
        floor(extract(epoch from {{ b }}){{ epoch_scale[part] }})
        - floor(extract(epoch from {{ a }}){{ epoch_scale[part] }})
    {%- endif %} as bigint)
{%- endmacro %}

{#- DuckDB's date_diff counts boundaries, except for weeks, which it counts whole
    (https://duckdb.org/docs/sql/functions/date#date_diffpart-startdate-enddate): a week is
    counted between the Mondays that begin the weeks of the day after each date, which are the
    weeks that begin on the Sundays before. -#}
{% macro duckdb__datediff(first_date, second_date, datepart) -%}
    {%- set part = dbt.kiln_datepart(datepart) -%}
    {%- if part == 'week' -%}
        date_diff('week', date_trunc('week', cast({{ first_date }} as date) + 1),
            date_trunc('week', cast({{ second_date }} as date) + 1))
    {%- else -%}
        date_diff('{{ part }}', cast({{ first_date }} as timestamp),
            cast({{ second_date }} as timestamp))
    {%- endif -%}
{%- endmacro %}

{#- Spark's timestampdiff counts whole units, so both ends are truncated to the unit first
    (https://spark.apache.org/docs/latest/api/sql/index.html#timestampdiff); a week is counted
    between the Mondays that begin the weeks of the day after each date. -#}
{% macro spark__datediff(first_date, second_date, datepart) -%}
    {%- set part = dbt.kiln_datepart(datepart) -%}
    {%- if part == 'week' -%}
        timestampdiff(WEEK, date_trunc('week', date_add(cast({{ first_date }} as date), 1)),
            date_trunc('week', date_add(cast({{ second_date }} as date), 1)))
    {%- else -%}
        timestampdiff({{ part | upper }}, date_trunc('{{ part }}', {{ first_date }}),
            date_trunc('{{ part }}', {{ second_date }}))
    {%- endif -%}
{%- endmacro %}

{# ---- date_trunc, last_day, date ------------------------------------------------------ #}

{% macro date_trunc(datepart, date) -%}
    {{ return(adapter.dispatch('date_trunc', 'dbt')(datepart, date)) }}
{%- endmacro %}

{% macro default__date_trunc(datepart, date) -%}
    date_trunc('{{ datepart }}', {{ date }})
{%- endmacro %}

{#- The last day (a date) of the datepart (month, quarter, year, week) that holds date. -#}
{% macro last_day(date, datepart) -%}
    {{ return(adapter.dispatch('last_day', 'dbt')(date, datepart)) }}
{%- endmacro %}

{#- The day before the next period starts. Not dispatched: adapters' last_day reuse it. -#}
{% macro default_last_day(date, datepart) -%}
    {%- set period_start = dbt.date_trunc(datepart, date) -%}
    {%- set next_start = dbt.dateadd(datepart, 1, period_start) -%}
    cast({{ dbt.dateadd('day', -1, next_start) }} as date)
{%- endmacro %}

{% macro default__last_day(date, datepart) -%}
    {{ return(dbt.default_last_day(date, datepart)) }}
{%- endmacro %}

{#- `dbt.date(2024, 1, 31)`: a date from its parts, checked when the SQL is compiled. -#}
{% macro date(year, month, day) -%}
    {{ return(adapter.dispatch('date', 'dbt')(year, month, day)) }}
{%- endmacro %}

{% macro default__date(year, month, day) -%}
    {%- set day_value = modules.datetime.date(year, month, day) -%}
    cast('{{ day_value.isoformat() }}' as date)
{%- endmacro %}

{#- DuckDB builds the date in SQL, so the parts may be expressions, as in dbt-duckdb
    (https://duckdb.org/docs/sql/functions/date#make_dateyear-month-day). -#}
{% macro duckdb__date(year, month, day) -%}
    make_date({{ year }}, {{ month }}, {{ day }})
{%- endmacro %}

{# ---- current_timestamp and friends ---------------------------------------------------- #}

{#- The current time with its time zone where the engine has one (DuckDB, PostgreSQL:
    timestamptz; Spark's timestamp is an instant shown in the session time zone). -#}
{% macro current_timestamp() -%}
    {{ return(adapter.dispatch('current_timestamp', 'dbt')()) }}
{%- endmacro %}

{% macro default__current_timestamp() -%}
    current_timestamp
{%- endmacro %}

{#- The current time as a timestamp without time zone (dbt_utils' old current_timestamp). -#}
{% macro current_timestamp_backcompat() -%}
    {{ return(adapter.dispatch('current_timestamp_backcompat', 'dbt')()) }}
{%- endmacro %}

{% macro default__current_timestamp_backcompat() -%}
    cast(current_timestamp as timestamp)
{%- endmacro %}

{#- The current UTC time as a timestamp without time zone. -#}
{% macro current_timestamp_in_utc_backcompat() -%}
    {{ return(adapter.dispatch('current_timestamp_in_utc_backcompat', 'dbt')()) }}
{%- endmacro %}

{#- As dbt-duckdb: the session's wall-clock time, which is UTC where the session is. -#}
{% macro default__current_timestamp_in_utc_backcompat() -%}
    {{ return(dbt.current_timestamp_backcompat()) }}
{%- endmacro %}

{#- https://www.postgresql.org/docs/current/functions-datetime.html#FUNCTIONS-DATETIME-ZONECONVERT -#}
{% macro postgres__current_timestamp_in_utc_backcompat() -%}
    cast(current_timestamp at time zone 'UTC' as timestamp)
{%- endmacro %}

{#- https://spark.apache.org/docs/latest/api/sql/index.html#to_utc_timestamp -#}
{% macro spark__current_timestamp_in_utc_backcompat() -%}
    to_utc_timestamp(current_timestamp(), current_timezone())
{%- endmacro %}

{#- The time a snapshot records, as a timestamp without time zone. -#}
{% macro snapshot_get_time() -%}
    {{ return(adapter.dispatch('snapshot_get_time', 'dbt')()) }}
{%- endmacro %}

{% macro default__snapshot_get_time() -%}
    cast({{ dbt.current_timestamp() }} as timestamp)
{%- endmacro %}
