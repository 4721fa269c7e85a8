import pg from 'pg';
import { PREPARED_MARKER as PREPARED } from '../../ports/db.js';

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
