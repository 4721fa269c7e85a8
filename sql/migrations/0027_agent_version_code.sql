-- 0027 (agent rollouts). The agent's own versionCode as its heartbeat reports it (protocol v2,
-- optional `agentVersionCode`): a staged rollout of the agent package decides which devices run
-- release A, and which now run B, by this column, as it does by app_version_code for the kiosk app.
-- Null for agents that do not send it (older ones): such devices are never eligible for an agent
-- rollout, and never counted updated.
alter table devices add column agent_version_code bigint;
