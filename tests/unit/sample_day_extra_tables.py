"""The extra tables (contract.EXTRA_TABLES) of the 15-row sample day, counted by hand.

Shared by the transform tests, the extra validation tests and the job's integration test; plain
Python and Arrow, no pyspark.
"""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa

from include.ecommerce.validation import arrow_type
from spark_jobs import contract

D = Decimal
NULL = None

# Its rows (1-15, in file order): 1 09:00:15 101 s1001 view p001 electronics 299.99 x1;
# 2 101 s1001 add_to_cart p001; 3 102 s1002 view p002 clothing 49.99; 4 09:10:20 101 s1001
# purchase p001 299.99 x1; 5 103 s1003 view p003 books 19.99; 6 102 s1002 add_to_cart p002 x2;
# 7 104 s1004 view p001; 8 09:30:20 102 s1002 purchase p002 49.99 x2; 9 105 s1005 view p004 home;
# 10 103 s1003 add_to_cart p003 x3; 11 09:45:10 103 s1003 purchase p003 19.99 x3; 12 106 s1006
# view p005 electronics; 13 104 s1004 add_to_cart p001; 14 10:00:15 107 s1007 view p006
# clothing; 15 10:05:30 105 s1005 add_to_cart p004 home. Rows 1-13 are in hour 9, 14-15 in 10.


def _conversion(product, category, views, carts, purchases, v2c, c2p, v2p) -> dict:
    return {
        "product_id": product,
        "category": category,
        "views": views,
        "add_to_carts": carts,
        "purchases": purchases,
        "view_to_cart_rate": v2c,
        "cart_to_purchase_rate": c2p,
        "view_to_purchase_rate": v2p,
    }


SAMPLE_DAY_EXTRA_TABLES: dict[str, list[dict]] = {
    "product_conversion": [
        # p001: views rows 1, 7; carts rows 2, 13; purchase row 4 -> 2/2, 1/2, 1/2
        _conversion("p001", "electronics", 2, 2, 1, 1.0, 0.5, 0.5),
        # p002: view 3, cart 6, purchase 8; p003: view 5, cart 10, purchase 11 -> all 1.0
        _conversion("p002", "clothing", 1, 1, 1, 1.0, 1.0, 1.0),
        _conversion("p003", "books", 1, 1, 1, 1.0, 1.0, 1.0),
        # p004: view 9, cart 15, no purchase -> 1/1, 0/1, 0/1
        _conversion("p004", "home", 1, 1, 0, 1.0, 0.0, 0.0),
        # p005 (row 12), p006 (row 14): a view only -> 0/1, 0/0 = NULL, 0/1
        _conversion("p005", "electronics", 1, 0, 0, 0.0, NULL, 0.0),
        _conversion("p006", "clothing", 1, 0, 0, 0.0, NULL, 0.0),
        # totals: views 7, carts 5, purchases 3 = the funnel's 7, 5, 3
    ],
    "hourly_revenue": [
        # hour 9: purchases rows 4, 8, 11: 299.99 * 1 + 49.99 * 2 + 19.99 * 3
        #         = 299.99 + 99.98 + 59.97 = 459.94 (the category_stats revenue total)
        {"hour": 9, "purchases": 3, "revenue": D("459.94")},
        # hour 10: rows 14 (view) and 15 (add_to_cart): no purchase
        {"hour": 10, "purchases": 0, "revenue": D("0.00")},
    ],
    "session_stats": [
        # (user, session): (101, s1001) rows 1, 2, 4 -> 3 events, a purchase; (102, s1002) 3, 6, 8
        # -> 3, a purchase; (103, s1003) 5, 10, 11 -> 3, a purchase; (104, s1004) 7, 13 -> 2;
        # (105, s1005) 9, 15 -> 2; (106, s1006) 12 -> 1; (107, s1007) 14 -> 1.
        # 7 sessions; 15 events / 7; sorted [1, 1, 2, 2, 3, 3, 3]: median the 4th = 2;
        # sessions with a purchase 3 / 7
        {
            "sessions": 7,
            "avg_events_per_session": 15 / 7,
            "median_events_per_session": 2.0,
            "purchase_session_share": 3 / 7,
        }
    ],
}
"""The extra tables of the sample day as rows, in the job's row order."""


def sample_day_extra_tables() -> dict[str, pa.Table]:
    """The same rows as Arrow tables with the contract's types, as a reader gets them."""
    return {
        table.name: pa.Table.from_pylist(
            SAMPLE_DAY_EXTRA_TABLES[table.name],
            schema=pa.schema([(c.name, arrow_type(c.type)) for c in table.columns]),
        )
        for table in contract.EXTRA_TABLES
    }
