import crypto from "node:crypto";
import Database from "better-sqlite3";

// Usage intervals with known values, written straight into a server's real database file: the past days a test
// cannot wait for. Dates are stored the way Prisma's SQLite adapter stores them (ISO 8601 with "+00:00"), or the
// ledger's range queries, which compare them as text, would not find them.

export type SeedInterval = {
  userId: string;
  userEmail: string;
  workspaceName: string;
  workspaceId?: string;
  gpus: number;
  memoryGb: number;
  cpus: number;
  startedAt: Date;
  endedAt: Date | null;
  endReason?: string | null;
};

const DAY = 86_400_000;

/** Midnight UTC, `days` days from today (negative: the past), plus `hours`. */
export function utcDay(days: number, hours = 0): Date {
  return new Date(Math.floor(Date.now() / DAY) * DAY + days * DAY + hours * 3_600_000);
}

function stored(d: Date): string {
  return d.toISOString().replace("Z", "+00:00");
}

/** Inserts the intervals; returns them with their ids and workspace ids. */
export function insertIntervals(dbFile: string, intervals: SeedInterval[]): (SeedInterval & { id: string; workspaceId: string })[] {
  const conn = new Database(dbFile, { fileMustExist: true, timeout: 10_000 });
  try {
    const insert = conn.prepare(
      `INSERT INTO UsageInterval (id, workspaceId, workspaceName, userId, userEmail, gpuUuids, gpus, memoryGb, cpus, startedAt, endedAt, endReason)
       VALUES (@id, @workspaceId, @workspaceName, @userId, @userEmail, @gpuUuids, @gpus, @memoryGb, @cpus, @startedAt, @endedAt, @endReason)`,
    );
    return intervals.map((i) => {
      const row = { ...i, id: `seed${crypto.randomBytes(8).toString("hex")}`, workspaceId: i.workspaceId ?? `seedws${crypto.randomBytes(6).toString("hex")}` };
      insert.run({
        ...row,
        gpuUuids: JSON.stringify(Array.from({ length: i.gpus }, (_, n) => `GPU-seed${n}`)),
        startedAt: stored(i.startedAt),
        endedAt: i.endedAt ? stored(i.endedAt) : null,
        endReason: i.endReason ?? (i.endedAt ? "stopped" : null),
      });
      return row;
    });
  } finally {
    conn.close();
  }
}

/** RFC 4180 CSV into rows of cells (quoted cells, doubled quotes, CRLF), to read an export as a spreadsheet would. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(cell); cell = ""; }
    else if (c === "\r" && text[i + 1] === "\n") { row.push(cell); rows.push(row); row = []; cell = ""; i++; }
    else cell += c;
  }
  if (cell !== "" || row.length > 0) { row.push(cell); rows.push(row); }
  return rows;
}

/** The CSV's rows as objects keyed by its header. */
export function csvRecords(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  return rows.map((r) => Object.fromEntries(header.map((h, n) => [h, r[n]])));
}
