-- Payments: which action pays each business reference of a tenant (an invoice: its vendor and
-- number; a claim: its number), so that a second document of one invoice or claim (submitted
-- again, or scanned after the born-digital original) never makes a second payout. The payment
-- connector reserves the reference before it calls the payout system; another action takes it
-- over only once the holder has finished without a live payout (failed, or its payout cancelled).
-- The sagas themselves are the act inbox's rows (0006): each step's status, its compensation and
-- the compensating actions, latest first.
CREATE TABLE payment_references (
    tenant_id TEXT NOT NULL,
    reference TEXT NOT NULL,
    action_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    payout_id TEXT,
    reserved_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    paid_at TIMESTAMPTZ,
    cancelled_at TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, reference)
);
CREATE INDEX payment_references_payout ON payment_references (tenant_id, payout_id);

-- Where each decision's saga stands (aios.act.saga.saga_state), written with every step's result:
-- running, completed, failed (nothing to undo), compensating, compensated, compensation_failed.
ALTER TABLE act_decisions ADD COLUMN saga_state TEXT NOT NULL DEFAULT 'running' CHECK (
    saga_state IN ('running', 'completed', 'failed', 'compensating', 'compensated', 'compensation_failed')
);
