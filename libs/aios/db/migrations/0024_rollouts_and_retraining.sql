-- Numbered after the issue (24) rather than next in line, so that parallel branches adding migrations do not
-- take the same number.

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

-- Scheduled retraining (`aios model retrain NAME --tenant T --every 24h`), run by the scheduler service.

CREATE TABLE retrain_schedules (
    name        TEXT NOT NULL,
    tenant_id   TEXT NOT NULL,
    every_s     INT NOT NULL CHECK (every_s > 0),
    arguments   JSONB NOT NULL,      -- the other options of `aios model retrain`, passed again at every run
    next_run_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_run_at TIMESTAMPTZ,
    last_result TEXT,
    PRIMARY KEY (name, tenant_id)
);
