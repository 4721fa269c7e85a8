-- 0025 (day two). RELEASE_OWNER, a signed command that makes the agent give up Device Owner
-- (DevicePolicyManager.clearDeviceOwnerApp): the device keeps its data and becomes an ordinary phone.
-- It is guarded like WIPE (admins only, confirmed beyond one device, a second admin beyond one device),
-- so approval requests may carry it too. Retiring with releaseOwner: true sends it first, like a WIPE
-- (devices.retire_command_id, 0016).
alter table commands
  drop constraint commands_type_check,
  add constraint commands_type_check
    check (type in ('REBOOT', 'RELAUNCH_APP', 'PING', 'LOCK', 'CLEAR_APP_DATA', 'INSTALL_APK', 'SET_CONFIG', 'WIPE', 'RELEASE_OWNER'));

alter table command_approvals
  drop constraint command_approvals_type_check,
  add constraint command_approvals_type_check check (type in ('WIPE', 'RELEASE_OWNER'));

