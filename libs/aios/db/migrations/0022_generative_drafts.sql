-- Generative drafts: the `openai` generator (any OpenAI-compatible chat completions server), and a
-- tenant's choice of generator per classification label (e.g. openai for pin_change, extractive
-- for report_fraud): label -> generator, consulted before kb_tenants.generator.

-- Numbered after the issue that asked for it, so that parallel branches do not share a version;
-- written to be safe where an earlier build of this branch applied it as version 8.
ALTER TABLE kb_tenants DROP CONSTRAINT IF EXISTS kb_tenants_generator_check;
ALTER TABLE kb_tenants ADD CONSTRAINT kb_tenants_generator_check
    CHECK (generator IN ('extractive', 'triton', 'openai'));
ALTER TABLE kb_tenants ADD COLUMN IF NOT EXISTS generator_by_label JSONB NOT NULL DEFAULT '{}'::jsonb;
