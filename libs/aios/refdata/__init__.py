"""Reference data per tenant: vendors, open purchase orders and insurance policies, for policy lookups."""
