-- Every catalogue product, with what it sold; unsold products keep zero totals.
with sales as (

    select
        product_id,
        sum(quantity) as units_sold,
        sum(net_cents) as net_cents
    from {{ ref('int_order_lines_enriched') }}
    where order_status = 'completed'
    group by product_id

)

select
    products.product_id,
    products.sku,
    products.product_name,
    products.category,
    products.unit_price,
    products.is_seasonal,
    coalesce(sales.units_sold, 0) as units_sold,
    {{ cents_to_currency('coalesce(sales.net_cents, 0)') }} as net_revenue
from {{ ref('stg_products') }} as products
left join sales
    on products.product_id = sales.product_id
