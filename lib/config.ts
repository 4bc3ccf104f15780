import path from "node:path";

// Every environment variable Gantry reads, in one place (documented in README.md).
export const config = {
  get dataDir(): string {
    return path.resolve(/*turbopackIgnore: true*/ process.env.GANTRY_DATA_DIR ?? "./data");
  },
  get databaseFile(): string {
    return path.join(/*turbopackIgnore: true*/ this.dataDir, "gantry.db");
  },
  get databaseUrl(): string {
    return process.env.DATABASE_URL ?? `file:${this.databaseFile}`;
  },
  get port(): number {
    return Number(process.env.PORT ?? 3000);
  },
  get host(): string {
    return process.env.HOST ?? "0.0.0.0";
  },
  /** Public URL of the dashboard; used for origin checks. Defaults to http://localhost:PORT. */
  get publicUrl(): string {
    return (process.env.GANTRY_PUBLIC_URL ?? process.env.NEXTAUTH_URL ?? `http://localhost:${this.port}`).replace(/\/$/, "");
  },
  /** Port of the workspace proxy, an origin of its own (default: PORT + 1). */
  get proxyPort(): number {
    return Number(process.env.GANTRY_PROXY_PORT ?? this.port + 1);
  },
  /**
   * Public URL of the workspace proxy. Defaults to the dashboard's host on the proxy port; "localhost" becomes
   * 127.0.0.1 so that, in local use, the browser keeps the dashboard's cookies away from it entirely.
   */
  get proxyPublicUrl(): string {
    if (process.env.GANTRY_PROXY_URL) return process.env.GANTRY_PROXY_URL.replace(/\/$/, "");
    const url = new URL(this.publicUrl);
    if (url.hostname === "localhost") url.hostname = "127.0.0.1";
    url.port = String(this.proxyPort);
    return url.origin;
  },
  /**
   * "{id}.ws.example.com": each workspace on a host (and so an origin) of its own. Unset, a dashboard on `localhost`
   * (with no GANTRY_PROXY_URL) gives each workspace `<id>.localhost`, which browsers resolve to the loopback address
   * (RFC 6761), so per-workspace origins cost nothing there; anywhere else all workspaces share the proxy URL's
   * origin. "none" keeps the shared origin even on localhost (for a browser that does not resolve *.localhost).
   */
  get proxyHostPattern(): string | null {
    const set = process.env.GANTRY_PROXY_HOST_PATTERN?.trim();
    if (set) return set.toLowerCase() === "none" ? null : set;
    if (process.env.GANTRY_PROXY_URL) return null;
    return new URL(this.publicUrl).hostname === "localhost" ? "{id}.localhost" : null;
  },
  /** Port of the SSH gateway (lib/ssh): `ssh -p PORT <workspace>@host`. 0 turns the gateway off. */
  get sshPort(): number {
    return Number(process.env.GANTRY_SSH_PORT ?? 2222);
  },
  /** The host name users' SSH clients connect to (the ~/.ssh/config block); defaults to the dashboard's host name. */
  get sshHost(): string {
    return process.env.GANTRY_SSH_HOST?.trim() || new URL(this.publicUrl).hostname;
  },
  get nvidiaSmi(): string {
    return process.env.GANTRY_NVIDIA_SMI ?? "nvidia-smi";
  },
  /** How often the GPU telemetry sampler (one long-lived nvidia-smi in loop mode) reports; "0" turns it off. */
  get telemetryIntervalMs(): number {
    const n = Number(process.env.GANTRY_TELEMETRY_INTERVAL_MS ?? 2000);
    return Number.isFinite(n) && n >= 0 ? n : 2000;
  },
  /** How often the idle culler looks at every running workspace. */
  get idleCheckMs(): number {
    return positive(process.env.GANTRY_IDLE_CHECK_MS, 30_000);
  },
  /**
   * The length of one of the idle settings' "minutes", in milliseconds. Only tests and demos change it (a test's
   * "minute" is a second); an admin sets timeouts in minutes.
   */
  get idleMinuteMs(): number {
    return positive(process.env.GANTRY_IDLE_MINUTE_MS, 60_000);
  },
  /** Addresses (comma-separated) of reverse proxies whose X-Forwarded-For is trusted. */
  get trustedProxies(): string[] {
    return (process.env.GANTRY_TRUSTED_PROXIES ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  },
  /** Which backend runs workspaces (lib/backend/backend.ts); "docker", the local engine, is the only one today. */
  get backend(): string {
    return process.env.GANTRY_BACKEND?.trim() || "docker";
  },
  get dockerTimeoutMs(): number {
    return Number(process.env.GANTRY_DOCKER_TIMEOUT_MS ?? 30_000);
  },
};

/** A number of milliseconds from the environment: anything but a finite number above 0 is the default. */
function positive(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && value.trim() !== "" && Number.isFinite(n) && n > 0 ? n : fallback;
}
