import pg from 'pg';

/** How a statement asks to be prepared once per connection: its text starts with this comment. */
export const preparedAs = (name: string) => `/* prepared:${name} */`;
const PREPARED = /^\/\* prepared:([a-z_]+) \*\//;

/**
 * A pg client that runs a statement whose text starts with `preparedAs(name)` as a named prepared
 * statement: parsed and analysed once per connection, then only bound and executed - and, once
 * PostgreSQL settles on a generic plan, not planned again either. For the hot statements whose text
 * never changes (the heartbeat batch), where planning costs more than running. Everything else passes
 * through untouched.
 */
export class PreparingClient extends pg.Client {
  override query(...args: unknown[]): never {
    const [text, values] = args;
    const name = typeof text === 'string' && args.length <= 2 ? PREPARED.exec(text)?.[1] : undefined;
    const run = super.query.bind(this) as (...a: unknown[]) => never;
    return name ? run({ name, text, values }) : run(...args);
  }
}
