-- 0012: admin sessions can be revoked, first-start passwords must be changed, and an account under
-- attack from many addresses still lets its admin in from an address they signed in from before.
--  * session_version is carried in every admin session token and compared on every request; logout,
--    a password change, disabling and a role change bump it, so every token issued before is dead
--    (re-enabling a user does not bring the old number back).
--  * must_change_password: set on a generated password (first start, reset); until the admin picks
--    their own, the API answers 403 password_change_required to everything but the change itself.
--  * known_addresses: the last few client addresses this admin signed in from; the account-wide
--    failure limit (across all addresses) does not apply to them.
alter table admins
  add column session_version integer not null default 0,
  add column must_change_password boolean not null default false,
  add column known_addresses text[] not null default '{}';
