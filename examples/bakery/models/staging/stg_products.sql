select
    product_id,
    sku,
    product_name,
    category,
    unit_price_cents,
    {{ cents_to_currency('unit_price_cents') }} as unit_price,
    is_seasonal
from {{ ref('raw_products') }}
