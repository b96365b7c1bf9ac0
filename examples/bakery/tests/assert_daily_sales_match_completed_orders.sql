-- Revenue must reconcile: the daily shop totals add up to the completed orders.
with from_orders as (

    select coalesce(sum(net_amount), 0) as net_revenue
    from {{ ref('fct_orders') }}
    where order_status = 'completed'

),

from_daily as (

    select coalesce(sum(net_revenue), 0) as net_revenue
    from {{ ref('fct_store_daily_sales') }}

)

select
    from_orders.net_revenue as orders_net_revenue,
    from_daily.net_revenue as daily_net_revenue
from from_orders
cross join from_daily
where from_orders.net_revenue != from_daily.net_revenue
