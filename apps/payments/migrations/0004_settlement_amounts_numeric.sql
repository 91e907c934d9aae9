-- What a batch carries forward is a sum of refunds and fees, not one payment: a large refund of a
-- payment settled in an earlier batch made it pass 2^63 - 1 (a gateway amount may have 19 digits,
-- the contracts allow 31), the close's UPDATE failed with "bigint out of range", and the batch could
-- never close. numeric(38, 0), like every amount column of the analytics read models.
alter table payments.settlement_batches alter column carried_forward_minor type numeric(38, 0);
