import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../../src/ports/db.js';

export type PlanNode = Record<string, unknown>;

/** A statement's plan as PostgreSQL ran it (EXPLAIN ANALYZE, JSON): the top node. */
export async function analyzed(db: Db, statement: RawBuilder<unknown>): Promise<PlanNode> {
  const { rows } = await sql<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>`explain (analyze, format json) ${statement}`.execute(db);
  return rows[0]!['QUERY PLAN'][0].Plan;
}

/** A plan's nodes: the node and all below it. */
export const planNodes = (node: PlanNode): PlanNode[] => [node, ...((node.Plans as PlanNode[] | undefined) ?? []).flatMap(planNodes)];

/** Rows a plan read (returned or filtered out, times loops) from the nodes `counts` picks. */
export const rowsRead =
  (counts: (node: PlanNode) => boolean) =>
  (node: PlanNode): number =>
    planNodes(node)
      .filter(counts)
      .reduce(
        (n, p) =>
          n + ((p['Actual Rows'] as number) + ((p['Rows Removed by Filter'] as number | undefined) ?? 0)) * (p['Actual Loops'] as number),
        0,
      );

/** Rows read from a table by any scan of it. */
export const tableRowsRead = (table: string) => rowsRead((node) => node['Relation Name'] === table);
