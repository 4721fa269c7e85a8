/** One ticking "now" for every relative time on screen, so "2 min ago" moves without reloads. */
class Clock {
  now = $state(Date.now());
  #timer: ReturnType<typeof setInterval> | undefined;

  start(intervalMs = 1000): void {
    this.#timer ??= setInterval(() => (this.now = Date.now()), intervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

export const clock = new Clock();
