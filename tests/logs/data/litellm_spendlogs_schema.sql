-- The LiteLLM_SpendLogs table as LiteLLM's Prisma schema declares it (model LiteLLM_SpendLogs in
-- BerriAI/litellm schema.prisma at commit 029f645f1c81cbd6c6c48fbc8490d91da937066f, MIT), written out in
-- the PostgreSQL types Prisma maps its fields to: String -> text, Int -> integer, Float -> double precision,
-- DateTime -> timestamp(3) without time zone, Json -> jsonb; @id -> primary key, @@index -> indexes.
CREATE TABLE "LiteLLM_SpendLogs" (
    "request_id" text NOT NULL,
    "call_type" text NOT NULL,
    "api_key" text NOT NULL DEFAULT '',
    "spend" double precision NOT NULL DEFAULT 0.0,
    "total_tokens" integer NOT NULL DEFAULT 0,
    "prompt_tokens" integer NOT NULL DEFAULT 0,
    "completion_tokens" integer NOT NULL DEFAULT 0,
    "startTime" timestamp(3) NOT NULL,
    "endTime" timestamp(3) NOT NULL,
    "request_duration_ms" integer,
    "completionStartTime" timestamp(3),
    "model" text NOT NULL DEFAULT '',
    "model_id" text DEFAULT '',
    "model_group" text DEFAULT '',
    "custom_llm_provider" text DEFAULT '',
    "api_base" text DEFAULT '',
    "user" text DEFAULT '',
    "metadata" jsonb DEFAULT '{}',
    "cache_hit" text DEFAULT '',
    "cache_key" text DEFAULT '',
    "request_tags" jsonb DEFAULT '[]',
    "team_id" text,
    "organization_id" text,
    "end_user" text,
    "requester_ip_address" text,
    "messages" jsonb DEFAULT '{}',
    "response" jsonb DEFAULT '{}',
    "session_id" text,
    "status" text,
    "mcp_namespaced_tool_name" text,
    "agent_id" text,
    "proxy_server_request" jsonb DEFAULT '{}',
    CONSTRAINT "LiteLLM_SpendLogs_pkey" PRIMARY KEY ("request_id")
);
CREATE INDEX "LiteLLM_SpendLogs_startTime_idx" ON "LiteLLM_SpendLogs" ("startTime");
CREATE INDEX "LiteLLM_SpendLogs_startTime_request_id_idx" ON "LiteLLM_SpendLogs" ("startTime", "request_id");
CREATE INDEX "LiteLLM_SpendLogs_end_user_idx" ON "LiteLLM_SpendLogs" ("end_user");
CREATE INDEX "LiteLLM_SpendLogs_session_id_idx" ON "LiteLLM_SpendLogs" ("session_id");
