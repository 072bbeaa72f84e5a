-- Generative drafts: the `openai` generator (any OpenAI-compatible chat completions server), and a
-- tenant's choice of generator per classification label (e.g. openai for pin_change, extractive
-- for report_fraud): label -> generator, consulted before kb_tenants.generator.

ALTER TABLE kb_tenants DROP CONSTRAINT kb_tenants_generator_check;
ALTER TABLE kb_tenants ADD CONSTRAINT kb_tenants_generator_check
    CHECK (generator IN ('extractive', 'triton', 'openai'));
ALTER TABLE kb_tenants ADD COLUMN generator_by_label JSONB NOT NULL DEFAULT '{}'::jsonb;
