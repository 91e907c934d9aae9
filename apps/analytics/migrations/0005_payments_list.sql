-- GET /payments (the gateway's GET /v1/payments, also the analysts' review queue) pages newest first
-- by (requested_at, payment_id). A channel always names one of its merchant or payer accounts, the
-- review queue names a status, an analyst may name nothing: one index for each way in, so no page
-- sorts the whole table. A rebuild's shadow tables copy them (create table ... like ... including all).
create index if not exists payments_requested_desc on analytics.payments (requested_at desc, payment_id desc);
create index if not exists payments_status_requested on analytics.payments (status, requested_at desc, payment_id desc);
create index if not exists payments_merchant_account_requested on analytics.payments (merchant_account_id, requested_at desc, payment_id desc);
create index if not exists payments_payer_account_requested on analytics.payments (payer_account_id, requested_at desc, payment_id desc);
