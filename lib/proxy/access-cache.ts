import type { WorkspaceEvent } from "../events/bus";

// What the proxy needs to decide a request, kept in memory so that a proxied request or WebSocket upgrade costs no
// database read and no Docker call in the steady state.
//
// Correctness comes from the in-process event bus: every change to a workspace (notifyWorkspace, the reconciler,
// delete), to a user (update, delete, password change) and to the settings is published there after it is committed,
// and drops the entries it touches, so the very next request reads the database again. A fill that was under way when
// its entry was dropped may have read the old row: it answers the request it was started for, but is not kept.
//
// The operator CLI (`gantry user disable`, run in its own process) cannot publish on the server's bus: user entries
// therefore live only USER_TTL_MS, so a change made there takes effect within that time. Re-validating on every
// request instead (a one-row read of User.updatedAt) would put a database read back on every request, which is the
// cost this cache exists to remove; one read per user per USER_TTL_MS is nothing. The CLI changes nothing else the
// proxy reads (it creates users, tokens and catalog images). Workspace and settings entries keep a longer TTL only
// as belt and braces.
export const USER_TTL_MS = 2_000;
export const WORKSPACE_TTL_MS = 60_000;
export const SETTINGS_TTL_MS = 60_000;
const MAX_ENTRIES = 10_000;

export type WorkspaceAccess = {
  ownerId: string;
  status: string;
  jupyterToken: string;
  /**
   * The container and the start the target belongs to: a new container, or the same one started again, behind the
   * same address must not be sent requests on the old one's kept-alive connections.
   */
  instance: string | null;
  /** When the container last started (ms since the epoch), if it runs. */
  startedAt?: number | null;
  /** http://address:port while running; null otherwise or when the address is not known yet. */
  target: string | null;
};
export type UserAccess = { disabled: boolean; role: string; sessionEpoch: number };
/** Whether a dashboard session was signed out, with whose it is (to drop it when that user changes). */
export type SessionRevocation = { userId: string; revoked: boolean };

export type AccessLoaders = {
  workspace(id: string): Promise<WorkspaceAccess | null>;
  user(id: string): Promise<UserAccess | null>;
  sessionRevoked(sid: string): Promise<boolean>;
  /** The active user an API token (given by its hash) belongs to, or null. */
  tokenUser(tokenHash: string): Promise<string | null>;
  adminAccess(): Promise<boolean>;
};

type Entry<V> = { value: V; expires: number };

/** Values by key with a time to live, one fill at a time per key; a dropped key's fill under way is not kept. */
export class KeyedCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly fills = new Map<string, Promise<V>>();

  constructor(
    private readonly load: (key: string) => Promise<V>,
    /** How long a loaded value may be kept (0: not at all). */
    private readonly ttl: (value: V) => number,
    private readonly now: () => number = Date.now,
    private readonly maxEntries = MAX_ENTRIES,
  ) {}

  get(key: string): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && hit.expires > this.now()) return Promise.resolve(hit.value);
    const pending = this.fills.get(key);
    if (pending) return pending;
    const fill: Promise<V> = this.load(key).then(
      (value) => {
        // Still the current fill: nothing dropped this key while it read.
        if (this.fills.get(key) === fill) {
          this.fills.delete(key);
          const ttl = this.ttl(value);
          if (ttl > 0) this.store(key, value, ttl);
        }
        return value;
      },
      (e: unknown) => {
        if (this.fills.get(key) === fill) this.fills.delete(key);
        throw e;
      },
    );
    this.fills.set(key, fill);
    return fill;
  }

  drop(key: string): void {
    this.entries.delete(key);
    this.fills.delete(key);
  }

  clear(): void {
    this.entries.clear();
    this.fills.clear();
  }

  /** Keys whose cached value matches (for dropping everything that belongs to one user). */
  keysWhere(test: (value: V) => boolean): string[] {
    return [...this.entries].filter(([, e]) => test(e.value)).map(([k]) => k);
  }

  get size(): number {
    return this.entries.size;
  }

  private store(key: string, value: V, ttl: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expires: this.now() + ttl });
    // Oldest first (Map order): a flood of ids cannot grow the map without bound.
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}

export class AccessCache {
  readonly workspaces: KeyedCache<WorkspaceAccess | null>;
  readonly users: KeyedCache<UserAccess | null>;
  /** By "<userId> <sid>": sign-out publishes user-changed, which drops that user's entries. */
  readonly sessions: KeyedCache<SessionRevocation>;
  /** API tokens by hash: the user's id, or null (unknown, revoked or disabled); dropped when that user changes. */
  readonly tokens: KeyedCache<{ userId: string | null }>;
  readonly settings: KeyedCache<boolean>;

  constructor(loaders: AccessLoaders, now: () => number = Date.now) {
    // A running workspace whose address could not be read (Docker unreachable) is asked again on the next request.
    this.workspaces = new KeyedCache((id) => loaders.workspace(id), (w) => (w && w.status === "running" && !w.target ? 0 : WORKSPACE_TTL_MS), now);
    this.users = new KeyedCache((id) => loaders.user(id), () => USER_TTL_MS, now);
    this.sessions = new KeyedCache(
      async (key) => {
        const [userId, sid] = key.split(" ");
        return { userId, revoked: await loaders.sessionRevoked(sid) };
      },
      // A revocation is final; a live session is asked again as often as its user is.
      (s) => (s.revoked ? WORKSPACE_TTL_MS : USER_TTL_MS),
      now,
    );
    this.tokens = new KeyedCache(async (hash) => ({ userId: await loaders.tokenUser(hash) }), () => USER_TTL_MS, now);
    this.settings = new KeyedCache(() => loaders.adminAccess(), () => SETTINGS_TTL_MS, now);
  }

  workspace(id: string): Promise<WorkspaceAccess | null> {
    return this.workspaces.get(id);
  }

  user(id: string): Promise<UserAccess | null> {
    return this.users.get(id);
  }

  sessionRevoked(userId: string, sid: string): Promise<boolean> {
    return this.sessions.get(`${userId} ${sid}`).then((s) => s.revoked);
  }

  tokenUser(tokenHash: string): Promise<string | null> {
    return this.tokens.get(tokenHash).then((t) => t.userId);
  }

  adminAccess(): Promise<boolean> {
    return this.settings.get("allowAdminWorkspaceAccess");
  }

  /** Drops what an event on the bus changed. */
  handle(event: WorkspaceEvent): void {
    switch (event.type) {
      case "workspace":
      case "workspace-deleted":
        this.workspaces.drop(event.workspaceId);
        return;
      case "user-changed":
        this.users.drop(event.userId);
        for (const key of this.sessions.keysWhere((s) => s.userId === event.userId)) this.sessions.drop(key);
        for (const key of this.tokens.keysWhere((t) => t.userId === event.userId)) this.tokens.drop(key);
        // A deleted user's workspaces go with them (a cascade, with no workspace event of its own).
        for (const id of this.workspaces.keysWhere((w) => w?.ownerId === event.userId)) this.workspaces.drop(id);
        return;
      case "settings-changed":
        this.settings.clear();
        return;
      default:
        return;
    }
  }
}
