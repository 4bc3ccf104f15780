// Which user a workspace container runs as, decided by number, never by name: an image's USER of `00`, `+0`,
// `0:0` or a name that its /etc/passwd maps to uid 0 is root all the same. Pure (unit-tested); the image's
// /etc/passwd and /etc/group are read by lib/docker/image-accounts.ts only when the USER needs them.

export type NumericUser = { uid: number; gid: number };
export type Accounts = { passwd: string | null; group: string | null };

export const FALLBACK: NumericUser = { uid: 1000, gid: 1000 };
// Linux ids are 32-bit; (2^32 - 1) is "no id". Anything beyond is not a user Docker could run as.
const MAX_ID = 2 ** 32 - 2;

/** Docker reads numeric parts with Go's strconv.Atoi: leading zeros and a sign are allowed (`00`, `+0`, `-0`). */
export function parseId(text: string): number | null {
  if (!/^[+-]?[0-9]+$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= 0 && n <= MAX_ID ? n || 0 : null; // -0 is 0
}

type Entry = { name: string; id: number; gid?: number };

function parseLines(text: string | null, gidField: number | null): Entry[] {
  const out: Entry[] = [];
  for (const line of (text ?? "").split("\n")) {
    if (!line.trim() || line.startsWith("#")) continue;
    const f = line.split(":");
    const id = parseId(f[2] ?? "");
    if (!f[0] || id === null) continue;
    const gid = gidField === null ? undefined : (parseId(f[gidField] ?? "") ?? undefined);
    out.push({ name: f[0], id, gid });
  }
  return out;
}

/** name:password:uid:gid:gecos:home:shell */
export function parsePasswd(text: string | null): { name: string; uid: number; gid: number | undefined }[] {
  return parseLines(text, 3).map((e) => ({ name: e.name, uid: e.id, gid: e.gid }));
}

/** name:password:gid:members */
export function parseGroup(text: string | null): { name: string; gid: number }[] {
  return parseLines(text, null).map((e) => ({ name: e.name, gid: e.id }));
}

/** The USER spec split into its user and group parts (`user`, `user:group`); an empty user part is root. */
function split(spec: string | null | undefined): { user: string; group: string | null } {
  const s = (spec ?? "").trim();
  const i = s.indexOf(":");
  return i < 0 ? { user: s, group: null } : { user: s.slice(0, i), group: s.slice(i + 1) };
}

/**
 * Whether deciding needs the image's /etc/passwd and /etc/group: only for a name, or a numeric uid without a group
 * (whose primary group /etc/passwd gives). Root in any spelling, and `uid:gid` in numbers, need neither.
 */
export function needsAccounts(spec: string | null | undefined): boolean {
  const { user, group } = split(spec);
  const uid = parseId(user);
  if (user === "" || uid === 0) return false;
  return uid === null || group === null || (group !== "" && parseId(group) === null);
}

/**
 * The numeric uid:gid to run as. Uid 0 (in any spelling, or a name /etc/passwd maps to 0), an unknown name, or a spec
 * that is not a user at all fall back to 1000:1000. Gid 0 is never given either: a group that resolves to 0 (or not
 * at all) becomes the user's primary group from /etc/passwd if that is not 0, else 1000.
 * Passing `uid:gid` also keeps Docker from adding supplementary groups from the image's /etc/group (such as root).
 */
export function decideUser(spec: string | null | undefined, accounts: Accounts = { passwd: null, group: null }): NumericUser {
  const { user, group } = split(spec);
  if (user === "") return FALLBACK;
  const passwd = parsePasswd(accounts.passwd);
  const numeric = parseId(user);
  // A number is a uid whatever /etc/passwd says (as in Docker); a name must be found there.
  const entry = numeric !== null ? passwd.find((p) => p.uid === numeric) : passwd.find((p) => p.name === user);
  const uid = numeric ?? entry?.uid;
  if (uid === undefined || uid === 0) return FALLBACK;
  const primary = entry?.gid !== undefined && entry.gid !== 0 ? entry.gid : FALLBACK.gid;
  if (group === null || group === "") return { uid, gid: primary };
  const gid = parseId(group) ?? parseGroup(accounts.group).find((g) => g.name === group)?.gid;
  return { uid, gid: gid === undefined || gid === 0 ? primary : gid };
}

/** The first regular file in a tar archive (what Docker's archive endpoint sends for one file); null when none. */
export function firstFileInTar(tar: Buffer): string | null {
  let offset = 0;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) return null;
    const size = parseInt(header.subarray(124, 136).toString("ascii").replace(/\0.*$/s, "").trim() || "0", 8);
    if (!Number.isFinite(size) || size < 0) return null;
    const type = String.fromCharCode(header[156]);
    const body = offset + 512;
    if (type === "0" || type === "\0") return tar.subarray(body, body + size).toString("utf8");
    // Pax headers, long names, links: skip to the next entry.
    offset = body + Math.ceil(size / 512) * 512;
  }
  return null;
}

/** Config.User of a Gantry container is always "uid:gid" by number (container-spec.ts); anything else, or uid 0, is refused. */
export function nonRootUser(user: string | undefined): boolean {
  const [uid, gid, ...rest] = (user ?? "").split(":");
  const u = parseId(uid ?? "");
  return rest.length === 0 && u !== null && u > 0 && (gid === undefined || parseId(gid) !== null);
}
