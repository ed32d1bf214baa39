/**
 * At most `limit` events per client in any `windowMs`: a sliding window of timestamps per client
 * address. It protects the claim route from a script taking every picture; clients idle for a window
 * are forgotten, so the table stays as small as the recent traffic.
 */
export class RateLimit {
  private readonly events = new Map<string, number[]>();

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records an event for `client` if allowed; otherwise returns the seconds until one is. */
  take(client: string): { allowed: true } | { allowed: false; retryAfterSeconds: number } {
    const t = this.now();
    this.forgetIdle(t);
    const recent = (this.events.get(client) ?? []).filter((e) => t - e < this.windowMs);
    if (recent.length >= this.limit) {
      this.events.set(client, recent);
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((recent[0]! + this.windowMs - t) / 1000)) };
    }
    recent.push(t);
    this.events.set(client, recent);
    return { allowed: true };
  }

  private forgetIdle(t: number): void {
    for (const [client, times] of this.events) if (t - times.at(-1)! >= this.windowMs) this.events.delete(client);
  }
}
