-- A tenant's own OpenAI-compatible server for its generative drafts (`aios kb endpoint`): base URL,
-- model and API key as one value sealed under the tenant's data key (aios.keys.envelope), never in
-- clear. NULL: the retrieve-generate service's configured server.
ALTER TABLE kb_tenants ADD COLUMN IF NOT EXISTS openai_endpoint TEXT;
