select
    order_id,
    store_id,
    ordered_at,
    cast(ordered_at as date) as order_date,
    channel,
    status as order_status
from {{ ref('raw_orders') }}
