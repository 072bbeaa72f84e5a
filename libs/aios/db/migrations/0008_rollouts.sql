-- Staged rollouts (aios.rollout): one row per rollout with where it stands, so `aios model rollout`
-- resumes after its own restart; the history of every step and judgement beside it.

CREATE TABLE rollouts (
    rollout_id      BIGSERIAL PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('model', 'policy')),
    name            TEXT NOT NULL,                 -- the model name, or the tenant id of a policy
    version         TEXT NOT NULL,                 -- the model version, or the policy version
    plan            JSONB NOT NULL,
    state           TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'promoted', 'rolled_back')),
    step            INT NOT NULL DEFAULT 0,
    step_started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    previous        JSONB NOT NULL,                -- what to restore on rollback (aliases, or the policy version)
    reason          TEXT,
    started_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX rollouts_one_running ON rollouts (kind, name) WHERE state = 'running';

CREATE TABLE rollout_history (
    id           BIGSERIAL PRIMARY KEY,
    rollout_id   BIGINT NOT NULL REFERENCES rollouts ON DELETE CASCADE,
    step         INT NOT NULL,
    what         TEXT NOT NULL CHECK (what IN ('step', 'judged', 'promoted', 'rolled_back')),
    measurements JSONB,
    reason       TEXT,
    at           TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX rollout_history_rollout ON rollout_history (rollout_id, id);
