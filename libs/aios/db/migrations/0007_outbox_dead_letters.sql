-- Outbox rows the broker refused for good (too large for their topic, invalid) are dead-lettered
-- and kept, marked, instead of being retried forever ahead of every other row.

ALTER TABLE act_outbox ADD COLUMN dead_lettered_at TIMESTAMPTZ, ADD COLUMN dead_letter_reason TEXT;
CREATE INDEX act_outbox_unsettled ON act_outbox (id) WHERE dead_lettered_at IS NULL;

ALTER TABLE review_outbox ADD COLUMN dead_lettered_at TIMESTAMPTZ, ADD COLUMN dead_letter_reason TEXT;
DROP INDEX review_outbox_unpublished;
CREATE INDEX review_outbox_unsettled ON review_outbox (id) WHERE published_at IS NULL AND dead_lettered_at IS NULL;
