import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { FleetCounts, HeartbeatStats, MetricSources, MetricsRegistry } from '../../ports/metrics.js';

const COMMAND_STATES = ['queued', 'dispatched', 'delivered', 'succeeded', 'failed', 'rejected', 'expired'];
const ALERT_KINDS = ['offline', 'low_battery', 'app_down', 'app_frozen'];
const NOTIFICATION_STATES = ['pending', 'sending', 'sent', 'failed', 'dropped'];
const COMPLIANCE_STATES = ['compliant', 'pending', 'failed'];
/** Fleet counts are read at most this often, however often Prometheus (or several) scrapes. */
const FLEET_CACHE_MS = 10_000;

/**
 * The Metrics port on prom-client, in a registry of its own (never the global one: tests build many
 * apps in one process). Request counters use cached label children, so the hot path does no label
 * hashing; the heartbeat counters are read from the writer's own counters when scraped.
 */
export class PrometheusMetrics implements MetricsRegistry {
  readonly registry = new Registry();
  readonly #requests: Counter<'method' | 'route' | 'status'>;
  readonly #latency: Histogram<'method' | 'route'>;
  readonly #push: Counter<'outcome'>;
  readonly #notified: Counter<'result'>;
  readonly #enrollments: Counter;
  readonly #alertsOpened: Counter;
  readonly #alertsResolved: Counter;
  readonly #healing: Counter<'step'>;
  readonly #expired: Counter;
  readonly #gates: Counter<'verdict'>;
  readonly #children = new Map<string, { count: { inc(): void }; latency: { observe(v: number): void } }>();
  #fleet: { at: number; value: Promise<FleetCounts> } | undefined;

  constructor(options: { version: string; defaultMetrics?: boolean }) {
    const registers = [this.registry];
    if (options.defaultMetrics !== false) {
      collectDefaultMetrics({ register: this.registry });
      // prom-client names three gauges *_total, which Prometheus reserves for counters (promtool check
      // metrics complains, and no option renames them); each is the sum of its per-type gauge, which stays
      for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
        this.registry.removeSingleMetric(name);
      }
    }
    new Gauge({ name: 'mdm_build_info', help: 'Always 1; the version of the running backend.', labelNames: ['version'], registers }).set(
      { version: options.version },
      1,
    );
    this.#requests = new Counter({
      name: 'mdm_http_requests_total',
      help: 'HTTP requests answered, by method, route template and status.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.#latency = new Histogram({
      name: 'mdm_http_request_duration_seconds',
      help: 'Time from routing a request to its response, by method and route template.',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.#push = new Counter({ name: 'mdm_push_results_total', help: 'FCM push attempts by outcome.', labelNames: ['outcome'], registers });
    this.#notified = new Counter({
      name: 'mdm_notifications_delivered_total',
      help: 'Alert messages (Discord, e-mail) sent or failed by this process.',
      labelNames: ['result'],
      registers,
    });
    this.#enrollments = new Counter({ name: 'mdm_enrollments_total', help: 'Devices enrolled through this process.', registers });
    this.#alertsOpened = new Counter({ name: 'mdm_alerts_opened_total', help: 'Alerts opened by the sweeps this process ran.', registers });
    this.#alertsResolved = new Counter({
      name: 'mdm_alerts_resolved_total',
      help: 'Alerts resolved by the sweeps this process ran.',
      registers,
    });
    this.#healing = new Counter({
      name: 'mdm_self_healing_steps_total',
      help: 'Self-healing steps taken by this process: command (a remedy sent to the device) or escalation (told people).',
      labelNames: ['step'],
      registers,
    });
    this.#expired = new Counter({
      name: 'mdm_commands_expired_total',
      help: 'Commands that expired before their device reported, found by this process.',
      registers,
    });
    for (const step of ['command', 'escalation']) this.#healing.inc({ step }, 0);
    this.#gates = new Counter({
      name: 'mdm_rollout_gates_total',
      help: 'Rollout wave gates decided by this process, by verdict (passed, failed).',
      labelNames: ['verdict'],
      registers,
    });
    for (const verdict of ['passed', 'failed']) this.#gates.inc({ verdict }, 0);
  }

  httpRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route} ${status}`;
    let child = this.#children.get(key);
    if (!child) {
      child = {
        count: this.#requests.labels({ method, route, status: String(status) }),
        latency: this.#latency.labels({ method, route }),
      };
      this.#children.set(key, child);
    }
    child.count.inc();
    child.latency.observe(seconds);
  }

  pushed(outcomes: Readonly<Record<string, number>>): void {
    for (const [outcome, n] of Object.entries(outcomes)) if (n > 0) this.#push.inc({ outcome }, n);
  }

  notified(sent: number, failed: number): void {
    if (sent) this.#notified.inc({ result: 'sent' }, sent);
    if (failed) this.#notified.inc({ result: 'failed' }, failed);
  }

  enrolled(): void {
    this.#enrollments.inc();
  }

  alertsChanged(opened: number, resolved: number): void {
    if (opened) this.#alertsOpened.inc(opened);
    if (resolved) this.#alertsResolved.inc(resolved);
  }

  selfHealed(commands: number, escalations: number): void {
    if (commands) this.#healing.inc({ step: 'command' }, commands);
    if (escalations) this.#healing.inc({ step: 'escalation' }, escalations);
  }

  commandsExpired(n: number): void {
    if (n) this.#expired.inc(n);
  }

  rolloutGates(passed: number, failed: number): void {
    if (passed) this.#gates.inc({ verdict: 'passed' }, passed);
    if (failed) this.#gates.inc({ verdict: 'failed' }, failed);
  }

  /** Registers the gauges read when scraped: fleet counts from the database, the pool, the heartbeat writer. */
  attach(sources: MetricSources): this {
    const registers = [this.registry];
    if (sources.heartbeats) {
      const read = sources.heartbeats;
      const counter = (name: string, help: string, pick: (s: HeartbeatStats) => number) =>
        new Counter({
          name,
          help,
          registers,
          collect() {
            this.reset();
            this.inc(pick(read()));
          },
        });
      counter('mdm_heartbeats_ingested_total', 'Heartbeats stored (committed) by this process.', (s) => s.rows);
      counter(
        'mdm_heartbeats_duplicate_total',
        'Heartbeats answered but not stored again: a retry of one already stored (same bootId and seq).',
        (s) => s.duplicates,
      );
      counter('mdm_heartbeat_statements_total', 'Group-commit statements that stored heartbeats.', (s) => s.statements);
    }
    if (sources.pool) {
      const pool = sources.pool;
      new Gauge({
        name: 'mdm_db_pool_connections',
        help: 'Database connections of this process, in use or idle.',
        labelNames: ['state'],
        registers,
        collect() {
          const p = pool();
          if (!p) return;
          this.set({ state: 'in_use' }, p.totalCount - p.idleCount);
          this.set({ state: 'idle' }, p.idleCount);
        },
      });
      new Gauge({
        name: 'mdm_db_pool_waiting',
        help: 'Queries waiting for a free database connection in this process.',
        registers,
        collect() {
          const p = pool();
          if (p) this.set(p.waitingCount);
        },
      });
    }
    if (sources.rollouts) {
      const read = sources.rollouts;
      new Gauge({
        name: 'mdm_rollouts',
        help: 'Rollouts by state (running, paused, completed, ...).',
        labelNames: ['state'],
        registers,
        async collect() {
          const counts = await read();
          for (const state of new Set(['draft', 'running', 'paused', 'completed', 'aborted', 'rolled_back', ...Object.keys(counts)])) {
            this.set({ state }, counts[state] ?? 0);
          }
        },
      });
    }
    if (sources.fleet) {
      const fleet = () => this.#fleetCounts(sources.fleet!);
      const gauge = (name: string, help: string, label: string, keys: string[], pick: (f: FleetCounts) => Record<string, number>) =>
        new Gauge({
          name,
          help,
          labelNames: [label],
          registers,
          async collect() {
            const counts = pick(await fleet());
            for (const k of new Set([...keys, ...Object.keys(counts)])) this.set({ [label]: k }, counts[k] ?? 0);
          },
        });
      gauge(
        'mdm_devices',
        'Enrolled devices by status (online: seen within the offline threshold).',
        'status',
        ['online', 'offline'],
        (f) => f.devices,
      );
      gauge(
        'mdm_commands',
        'Commands by state (finished ones until pruned by COMMAND_RETENTION_DAYS).',
        'state',
        COMMAND_STATES,
        (f) => f.commands,
      );
      gauge('mdm_alerts_open', 'Open alerts by kind.', 'kind', ALERT_KINDS, (f) => f.alertsOpen);
      gauge(
        'mdm_devices_by_group',
        'Enrolled devices by group (group="" for devices without one). One series per group: mind the cardinality of thousands of groups.',
        'group',
        [],
        (f) => f.byGroup,
      );
      gauge(
        'mdm_notifications_stored',
        'Alert messages by state (until pruned by NOTIFICATION_RETENTION_DAYS).',
        'status',
        NOTIFICATION_STATES,
        (f) => f.notifications,
      );
      new Gauge({
        name: 'mdm_policy_compliance_devices',
        help: 'Active devices by group (group="" for none) and policy compliance state: compliant, pending (the applied hash differs), failed.',
        labelNames: ['group', 'state'],
        registers,
        async collect() {
          const counts = (await fleet()).compliance ?? {};
          // a group that is gone (or emptied) leaves no stale series behind
          this.reset();
          for (const [group, states] of Object.entries(counts)) {
            for (const state of new Set([...COMPLIANCE_STATES, ...Object.keys(states)])) this.set({ group, state }, states[state] ?? 0);
          }
        },
      });
      new Gauge({
        name: 'mdm_rollup_lag_seconds',
        help: 'Seconds since the end of the newest hour rolled up into heartbeat_rollups (about 1 h when healthy).',
        registers,
        async collect() {
          const lag = (await fleet()).rollupLagSec;
          if (lag !== null) this.set(lag);
        },
      });
    }
    return this;
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  #fleetCounts(read: () => Promise<FleetCounts>): Promise<FleetCounts> {
    const now = Date.now();
    if (!this.#fleet || now - this.#fleet.at > FLEET_CACHE_MS) {
      const value = read();
      this.#fleet = { at: now, value };
      // a failed read is not cached: the next scrape tries again
      value.catch(() => {
        if (this.#fleet?.value === value) this.#fleet = undefined;
      });
    }
    return this.#fleet.value;
  }
}
