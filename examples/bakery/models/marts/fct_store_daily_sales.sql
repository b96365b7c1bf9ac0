-- Completed sales per shop and day; refunded and cancelled orders are not revenue.
with completed_lines as (

    select * from {{ ref('int_order_lines_enriched') }}
    where order_status = 'completed'

),

daily as (

    select
        store_id,
        order_date,
        count(distinct order_id) as order_count,
        sum(quantity) as item_count,
        sum(gross_cents) as gross_cents,
        sum(discount_cents) as discount_cents,
        sum(net_cents) as net_cents
    from completed_lines
    group by store_id, order_date

)

select
    daily.store_id || '-' || strftime(daily.order_date, '%Y%m%d') as store_day_id,
    daily.store_id,
    stores.city,
    daily.order_date,
    daily.order_count,
    daily.item_count,
    {{ cents_to_currency('daily.gross_cents') }} as gross_revenue,
    {{ cents_to_currency('daily.discount_cents') }} as discounts,
    {{ cents_to_currency('daily.net_cents') }} as net_revenue
from daily
inner join {{ ref('stg_stores') }} as stores
    on daily.store_id = stores.store_id
