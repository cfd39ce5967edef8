import type { NotificationChannel } from '../watch/task-events';

// Session tokens seen recently, so an authenticated request does not spend a database round trip
// on its key before doing its work (for a task read that round trip was a third of the API's
// cost: bench/RESULTS.md). What is cached is the stored row of the key and its user; the presented
// secret is still hashed and compared, and expiry and suspension still checked, on every request.
//
// Revocation must not wait for a timeout: triggers (migration 20261125200000) NOTIFY
// `taskd_auth_events` when a key is deleted or its secret, expiry or owner change, and when a user
// changes, and every API process drops what it holds for them. The cache only answers while that
// feed is connected — while it is down, and after it comes back, every request reads the database
// (notifications sent meanwhile are lost). A read that raced an invalidation is not stored
// (generation check), and no entry lives longer than `ttlMs` whatever happens.

export const AUTH_EVENTS_CHANNEL = 'taskd_auth_events';

/** A cached row: the key-and-user statement's columns, as api/auth/api-keys.ts reads them. */
export type SessionRow = Readonly<Record<string, unknown>>;

interface Entry {
  row: SessionRow;
  userId: string;
  storedAt: number;
}

export interface SessionCacheOptions {
  /** how long an entry may be used at most; 0 turns the cache off */
  ttlMs: number;
  maxEntries?: number;
  now?: () => number;
}

export class SessionCache implements NotificationChannel {
  readonly channel = AUTH_EVENTS_CHANNEL;
  private readonly entries = new Map<string, Entry>();
  /** "key:<id>" / "user:<id>" → who wants to hear that it may no longer be valid (open streams) */
  private readonly watchers = new Map<string, Set<() => void>>();
  private live = false;
  private generationValue = 0;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(private readonly opts: SessionCacheOptions) {
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** Whether entries are being served (the invalidation feed is connected and the cache is on). */
  get serving(): boolean {
    return this.live && this.opts.ttlMs > 0;
  }

  /** Changes with every invalidation; take it before reading the database and hand it to set(). */
  get generation(): number {
    return this.generationValue;
  }

  get size(): number {
    return this.entries.size;
  }

  get(keyId: string): SessionRow | undefined {
    if (!this.serving) return undefined;
    const entry = this.entries.get(keyId);
    if (!entry) return undefined;
    if (this.now() - entry.storedAt >= this.opts.ttlMs) {
      this.entries.delete(keyId);
      return undefined;
    }
    return entry.row;
  }

  /** Stores a row read from the database, unless something was invalidated since `generation`. */
  set(keyId: string, userId: string, row: SessionRow, generation: number): void {
    if (!this.serving || generation !== this.generationValue) return;
    this.entries.delete(keyId);
    this.entries.set(keyId, { row, userId, storedAt: this.now() });
    // Map iteration is insertion order: the first entry is the oldest stored
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  /** Replaces a cached row's column (the key's last_used after a touch) without restarting its life. */
  patch(keyId: string, column: string, value: unknown): void {
    const entry = this.entries.get(keyId);
    if (entry) entry.row = { ...entry.row, [column]: value };
  }

  forgetKey(keyId: string): void {
    this.generationValue++;
    this.entries.delete(keyId);
    this.tell(`key:${keyId}`);
  }

  forgetUser(userId: string): void {
    this.generationValue++;
    for (const [id, entry] of this.entries) if (entry.userId === userId) this.entries.delete(id);
    this.tell(`user:${userId}`);
  }

  /**
   * Calls `recheck` whenever the session of `keyId` (or its user) may have stopped being valid:
   * a notification about either, or notifications possibly missed (the feed reconnected). For
   * what outlives a request, such as a watch stream. Returns the unsubscribe function.
   */
  watch(session: { keyId: string; userId: string }, recheck: () => void): () => void {
    const names = [`key:${session.keyId}`, `user:${session.userId}`];
    for (const name of names) {
      let set = this.watchers.get(name);
      if (!set) this.watchers.set(name, (set = new Set()));
      set.add(recheck);
    }
    return () => {
      for (const name of names) {
        const set = this.watchers.get(name);
        set?.delete(recheck);
        if (set?.size === 0) this.watchers.delete(name);
      }
    };
  }

  private tell(name: string | null): void {
    const targets = name === null ? [...this.watchers.values()] : [this.watchers.get(name) ?? new Set<() => void>()];
    for (const recheck of new Set(targets.flatMap((s) => [...s]))) {
      try {
        recheck();
      } catch {
        // a watcher's failure is its own; the others are still told
      }
    }
  }

  /** "key:<id>" or "user:<id>", as the triggers write them; anything else empties the cache. */
  onNotification(payload: string): void {
    const [kind, id] = payload.split(':', 2);
    if (kind === 'key' && id) this.forgetKey(id);
    else if (kind === 'user' && id) this.forgetUser(id);
    else this.clear();
  }

  onListening(listening: boolean): void {
    this.live = listening;
    this.clear();
  }

  private clear(): void {
    this.generationValue++;
    this.entries.clear();
    // whatever was missed may have revoked any session
    this.tell(null);
  }
}
