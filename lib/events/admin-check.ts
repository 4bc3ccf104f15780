/** A yes/no that is already known, or is being read. */
export type Verdict = boolean | Promise<boolean>;

export type CachedCheck = {
  /** The cached answer while it is younger than the TTL, else a fresh read (shared by everyone asking meanwhile). */
  check(): Verdict;
  /** Drops the answer: the next check reads again (a read in flight when this is called is not kept). */
  forget(): void;
};

/**
 * "Is the caller still an enabled admin?", asked for every event about someone else on an admin's event stream. The
 * answer is kept for at most `ttlMs` (counted from when its read began), so a burst of events costs one database read,
 * and a demotion made where no event tells this process (the CLI) reaches the stream within that time; the stream
 * forgets it at once when its own user changes. A failed read is a no.
 */
export function cachedCheck(read: () => Promise<boolean>, opts: { ttlMs?: number; now?: () => number } = {}): CachedCheck {
  const ttlMs = opts.ttlMs ?? 1000;
  const now = opts.now ?? Date.now;
  let cached: { at: number; value: Verdict } | null = null;
  let generation = 0;
  return {
    check() {
      if (cached && now() - cached.at < ttlMs) return cached.value;
      const at = now();
      const mine = ++generation;
      const value = read().then(
        (ok) => ok,
        () => false,
      );
      cached = { at, value };
      void value.then((ok) => {
        if (generation === mine && cached) cached = { at, value: ok };
      });
      return value;
    },
    forget() {
      generation++;
      cached = null;
    },
  };
}
