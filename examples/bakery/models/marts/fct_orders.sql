{{
    config(
        materialized='incremental',
        unique_key='order_id',
        tags=['finance']
    )
}}

with order_totals as (

    select
        order_id,
        store_id,
        ordered_at,
        order_date,
        channel,
        order_status,
        count(*) as line_count,
        sum(quantity) as item_count,
        sum(gross_cents) as gross_cents,
        sum(discount_cents) as discount_cents,
        sum(net_cents) as net_cents
    from {{ ref('int_order_lines_enriched') }}
    group by order_id, store_id, ordered_at, order_date, channel, order_status

)

select
    order_id,
    store_id,
    ordered_at,
    order_date,
    channel,
    order_status,
    line_count,
    item_count,
    {{ cents_to_currency('gross_cents') }} as gross_amount,
    {{ cents_to_currency('discount_cents') }} as discount_amount,
    {{ cents_to_currency('net_cents') }} as net_amount
from order_totals

{% if is_incremental() %}
-- Late refunds rewrite recent orders, so look back a few days, not just past the max.
where ordered_at >= (
    select max(ordered_at) - interval '{{ var("order_lookback_days") }} days' from {{ this }}
)
{% endif %}
