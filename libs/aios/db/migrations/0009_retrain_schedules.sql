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
