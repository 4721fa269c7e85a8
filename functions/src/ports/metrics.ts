/**
 * The Metrics port: what the app reports as it runs. Counters and histograms here are per process;
 * the fleet gauges (devices, commands, alerts, notifications) are read from the database when
 * scraped, so every instance answers the same. The Prometheus adapter is adapters/prometheus/prometheus.ts.
 */
export interface Metrics {
  /** One request answered by the router; `route` is the route's template, never the raw path. */
  httpRequest(method: string, route: string, status: number, seconds: number): void;
  /** Push attempts of one dispatch, by outcome. */
  pushed(outcomes: Readonly<Record<string, number>>): void;
  /** Alert messages sent or failed by one delivery run. */
  notified(sent: number, failed: number): void;
  /** A device enrolled. */
  enrolled(): void;
  /** Alerts one sweep opened and resolved. */
  alertsChanged(opened: number, resolved: number): void;
  /** Self-healing steps one tick took: commands sent, alerts escalated to people. */
  selfHealed(commands: number, escalations: number): void;
  /** Commands that expired before the device reported. */
  commandsExpired(n: number): void;
  /** Rollout gates one tick decided, by verdict. */
  rolloutGates(passed: number, failed: number): void;
}

export const noMetrics: Metrics = {
  httpRequest: () => {},
  pushed: () => {},
  notified: () => {},
  enrolled: () => {},
  alertsChanged: () => {},
  selfHealed: () => {},
  commandsExpired: () => {},
  rolloutGates: () => {},
};

/** Counts the fleet gauges are made of, read from the database. */
export interface FleetCounts {
  devices: { online: number; offline: number };
  commands: Record<string, number>;
  alertsOpen: Record<string, number>;
  /** Enrolled devices per group name ('' for devices without a group). */
  byGroup: Record<string, number>;
  notifications: Record<string, number>;
  /** Seconds since the newest hour that is rolled up ended; null before the first rollup. */
  rollupLagSec: number | null;
  /** Active devices by group name ('' for none), then compliance state (compliant, pending, failed). */
  compliance?: Record<string, Record<string, number>>;
}

/** The pg pool's counters (pg.Pool has these). */
export interface PoolStats {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/** The heartbeat writer's counters (HeartbeatWriter.stats). */
export interface HeartbeatStats {
  rows: number;
  statements: number;
  duplicates: number;
  retries: number;
}

/** Where the gauges read from when scraped. */
export interface MetricSources {
  fleet?: () => Promise<FleetCounts>;
  pool?: () => PoolStats | undefined;
  heartbeats?: () => HeartbeatStats;
  /** Rollouts by state. */
  rollouts?: () => Promise<Record<string, number>>;
}

/** Metrics that can also be read out: the sources of the scraped gauges, and the exposition text. */
export interface MetricsRegistry extends Metrics {
  attach(sources: MetricSources): this;
  render(): Promise<{ contentType: string; text: string }>;
}
