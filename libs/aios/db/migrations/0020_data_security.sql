-- Review sessions also end after `session_idle_s` without a request (issue 20, point 8).
ALTER TABLE review_sessions ADD COLUMN last_seen_at TIMESTAMPTZ NOT NULL DEFAULT now();
