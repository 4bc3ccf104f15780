// The processes of a server under test, read from /proc: its tree, and what they cost in CPU and memory.
import fs from "node:fs";
import path from "node:path";

export type Proc = { pid: number; ppid: number; exe: string; cmd: string };

export function processes(): Proc[] {
  const out: Proc[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
      let exe = "";
      try {
        exe = fs.readlinkSync(`/proc/${entry}/exe`);
      } catch {
        /* a zombie, or not ours to read */
      }
      out.push({ pid: Number(entry), ppid, exe, cmd });
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** Every process below `pid` (not `pid` itself). */
export function descendants(pid: number): Proc[] {
  const all = processes();
  const found: Proc[] = [];
  const visit = (p: number) => {
    for (const c of all.filter((x) => x.ppid === p)) {
      found.push(c);
      visit(c.pid);
    }
  };
  visit(pid);
  return found;
}

export const isNode = (p: Proc) => path.basename(p.exe) === "node" || path.basename(p.exe).startsWith("node");
export const isNpm = (p: Proc) => /npm-cli\.js|(^|\/)npm(\s|$)/.test(p.cmd);


const TICK = 100; // clock ticks per second (USER_HZ) on Linux

/** CPU seconds a process has used so far, all its threads (user + system). */
export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / TICK;
}

/** Resident memory of a process in MB (VmRSS). */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}
