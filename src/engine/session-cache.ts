/**
 * Sessions built lazily, once per graph kind (e.g. `mapping`, `image@8`), and released together.
 * Building a session compiles the graph; models keep one per kind and reuse it for every call.
 */
import type { Graph } from './graph.js';
import { Session, type SessionOptions } from './session.js';

export class SessionCache {
  private readonly sessions = new Map<string, Promise<Session>>();

  constructor(private readonly options: SessionOptions = {}) {}

  get(kind: string, build: () => Graph): Promise<Session> {
    let s = this.sessions.get(kind);
    if (!s) {
      s = Session.fromGraph(build(), this.options);
      this.sessions.set(kind, s);
    }
    return s;
  }

  async release(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of all) await (await s).release();
  }
}
