import type { CreatedUser, CreateUserBody, UserView } from '../api-types.js';
import { ago, table, UsageError } from '../output.js';
import type { Run } from './verb.js';

/** Body fields as the operator names them, for the server's validation messages. */
const ROLES = ['viewer', 'operator', 'admin'] as const satisfies readonly UserView['role'][];

export const USER_FIELDS = { email: '--email', role: '--role', name: '--name', password: '--password' };

export async function listUsers({ args, io, api, print }: Run): Promise<number> {
  if (args.length) throw new UsageError(`unknown: users ${args.join(' ')}`);
  const { items } = await api.get<{ items: UserView[] }>('/api/v1/admin/users');
  print(items, () =>
    table(
      io,
      ['ID', 'EMAIL', 'NAME', 'ROLE', 'STATUS', 'LAST LOGIN'],
      items.map((u) => [u.id, u.email, u.name || '-', u.role, u.disabled ? 'disabled' : 'active', ago(u.lastLoginAt)]),
    ),
  );
  return 0;
}

export async function createAdmin({ o, io, api, print }: Run): Promise<number> {
  if (!o.email || !o.role) throw new UsageError('admin create needs --email and --role');
  const role = ROLES.find((r) => r === o.role);
  if (!role) throw new UsageError(`--role is ${ROLES.join(', ')}`);
  const body: CreateUserBody = {
    email: o.email,
    role,
    ...(o.name ? { name: o.name } : {}),
    ...(o.password ? { password: o.password } : {}),
  };
  const res = await api.request<CreatedUser>('POST', '/api/v1/admin/users', body);
  print(res, () => {
    io.out(`created ${res.email} (${res.role})`);
    if (res.generatedPassword) io.out(`password (shown once): ${res.generatedPassword}`);
  });
  return 0;
}
