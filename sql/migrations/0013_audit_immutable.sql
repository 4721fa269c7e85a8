-- 0013: the audit log is append-only at the database level. UPDATE, DELETE and TRUNCATE on
-- audit_log are refused by a trigger, whoever connects - except a DELETE in a transaction that set
-- `mdm.audit_retention = 'on'` (set local), which only the audit retention path does
-- (functions/src/audit/audit.repository.ts pruneAuditBefore).
create function audit_log_append_only() returns trigger language plpgsql as $$
begin
  if tg_op = 'DELETE' and coalesce(current_setting('mdm.audit_retention', true), '') = 'on' then
    return old;
  end if;
  raise exception 'audit_log is append-only: % refused', tg_op using errcode = 'insufficient_privilege';
end
$$;

create trigger audit_log_append_only before update or delete on audit_log
  for each row execute function audit_log_append_only();
create trigger audit_log_no_truncate before truncate on audit_log
  for each statement execute function audit_log_append_only();
