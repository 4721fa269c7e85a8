import type { ConsoleConfig } from './console.schemas.js';

/** Where the admin console gets its live updates, read before signing in. */
export class ConsoleService {
  constructor(private readonly config: ConsoleConfig) {}

  consoleConfig(): ConsoleConfig {
    return this.config;
  }
}
