-- Retiring an alias (a shadow that has served its purpose, a tenant back on the global model)
-- marks the row instead of deleting it: the row takes a new revision, so workers polling
-- max(revision) see the change, which a deleted row could not tell them.

ALTER TABLE model_aliases ADD COLUMN retired BOOLEAN NOT NULL DEFAULT false;
