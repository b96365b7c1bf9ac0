select
    store_id,
    store_name,
    city,
    postcode,
    opened_on
from {{ ref('raw_stores') }}
