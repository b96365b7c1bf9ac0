-- Ephemeral: inlined as a CTE into the marts that read it, never built itself.
select
    lines.order_line_id,
    lines.order_id,
    orders.store_id,
    orders.ordered_at,
    orders.order_date,
    orders.channel,
    orders.order_status,
    lines.product_id,
    products.category,
    lines.quantity,
    lines.gross_cents,
    lines.discount_cents,
    lines.net_cents
from {{ ref('stg_order_lines') }} as lines
inner join {{ ref('stg_orders') }} as orders
    on lines.order_id = orders.order_id
inner join {{ ref('stg_products') }} as products
    on lines.product_id = products.product_id
