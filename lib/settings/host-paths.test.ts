import { describe, expect, it } from "vitest";
import { describeConflict, hostPathConflict, isWithin, segments, SYSTEM_DIRS, type ProtectedDir } from "./host-paths";

const DIRS: ProtectedDir[] = [...SYSTEM_DIRS, { path: "/srv/gantry", why: "Gantry's own data directory" }];

function relation(resolved: string): string | null {
  const c = hostPathConflict(resolved, DIRS);
  return c ? `${c.relation} ${c.dir.path}` : null;
}

describe("segments and isWithin", () => {
  it("normalise repeated slashes and dots", () => {
    expect(segments("/")).toEqual([]);
    expect(segments("//run/./")).toEqual(["run"]);
    expect(segments("/var//lib/../run")).toEqual(["var", "run"]);
  });

  it("compare by segment, not by string prefix", () => {
    expect(isWithin("/etc/ssl", "/etc")).toBe(true);
    expect(isWithin("/etc", "/etc")).toBe(true);
    expect(isWithin("/etcetera", "/etc")).toBe(false);
    expect(isWithin("/etc", "/etc/ssl")).toBe(false);
    expect(isWithin("/anything", "/")).toBe(true);
  });
});

describe("hostPathConflict", () => {
  it.each([
    ["/", "is /"],
    ["/run", "is /run"],
    ["/run/docker", "lies inside /run"],
    ["/var/run", "is /var/run"],
    ["/var", "contains /var/run"],
    ["/var/lib", "contains /var/lib/docker"],
    ["/var/lib/docker/volumes", "lies inside /var/lib/docker"],
    ["/proc/1", "lies inside /proc"],
    ["/sys/fs/cgroup", "lies inside /sys"],
    ["/dev/shm", "lies inside /dev"],
    ["/etc", "is /etc"],
    ["/boot/efi", "lies inside /boot"],
    ["/root/data", "lies inside /root"],
    ["/srv", "contains /srv/gantry"],
    ["/srv/gantry/backups", "lies inside /srv/gantry"],
  ])("refuses %s (%s)", (resolved, expected) => {
    expect(relation(resolved)).toBe(expected);
  });

  it.each(["/srv/datasets", "/etcetera", "/mnt/shared/data", "/var/lib/datasets", "/home/alice/data", "/srv/gantry-data", "/tmp/x"])(
    "accepts %s",
    (resolved) => {
      expect(relation(resolved)).toBeNull();
    },
  );

  it("says what was given, what it resolved to, and why it is refused", () => {
    const c = hostPathConflict("/run", DIRS)!;
    expect(describeConflict("/tmp/link", "/run", c)).toBe(
      "dataPath: /tmp/link (which resolves to /run) is /run, the host's runtime state (sockets); choose a directory that holds only the data to share.",
    );
    expect(describeConflict("/run", "/run", c)).toMatch(/^dataPath: \/run is \/run,/);
  });
});
