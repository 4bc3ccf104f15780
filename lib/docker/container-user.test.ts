import { describe, expect, it } from "vitest";
import { decideUser, firstFileInTar, needsAccounts, nonRootUser, parseGroup, parseId, parsePasswd, type Accounts } from "./container-user";

const PASSWD = [
  "root:x:0:0:root:/root:/bin/sh",
  "toor:x:0:0::/root:/bin/sh",
  "zero:x:000:1234::/:/bin/sh",
  "user:x:1000:1000:user:/home/user:/bin/sh",
  "builder:x:1234:1234::/home/builder:/bin/sh",
  "rootgroup:x:2000:0::/:/bin/sh",
  "# a comment",
  "broken-line",
  "nobody:x:65534:65534:nobody:/nonexistent:/bin/false",
].join("\n");
const GROUP = ["root:x:0:user", "wheel:x:0:", "user:x:1000:", "builders:x:1234:", "data:x:3000:"].join("\n");
const accounts = { passwd: PASSWD, group: GROUP };
const user = (spec: string | null | undefined, a: Accounts = accounts) => {
  const u = decideUser(spec, a);
  return `${u.uid}:${u.gid}`;
};

describe("parseId", () => {
  it.each([
    ["0", 0],
    ["00", 0],
    ["+0", 0],
    ["-0", 0],
    ["1000", 1000],
    ["+1234", 1234],
    ["4294967294", 4294967294],
  ])("reads %j as %d, as Docker does", (text, n) => {
    expect(parseId(text)).toBe(n);
  });

  it.each(["", "root", "1e3", "0x10", "-1", "4294967295", "99999999999999999999", " 0", "1.0"])("refuses %j", (text) => {
    expect(parseId(text)).toBeNull();
  });
});

describe("parsePasswd and parseGroup", () => {
  it("read names and numeric ids, skipping comments and broken lines", () => {
    expect(parsePasswd(PASSWD).map((p) => `${p.name}=${p.uid}:${p.gid}`)).toEqual([
      "root=0:0", "toor=0:0", "zero=0:1234", "user=1000:1000", "builder=1234:1234", "rootgroup=2000:0", "nobody=65534:65534",
    ]);
    expect(parseGroup(GROUP).map((g) => `${g.name}=${g.gid}`)).toEqual(["root=0", "wheel=0", "user=1000", "builders=1234", "data=3000"]);
    expect(parsePasswd(null)).toEqual([]);
  });
});

describe("decideUser: uid 0 in any spelling runs as 1000:1000", () => {
  it.each(["", "   ", null, undefined, "0", "00", "+0", "-0", "0:0", "00:1000", "+0:1234", "0:", ":1000", "root", "root:root", "toor", "toor:1234", "zero"])(
    "%j",
    (spec) => {
      expect(user(spec)).toBe("1000:1000");
    },
  );

  it("a name that is not in /etc/passwd, or an image without one, falls back too", () => {
    expect(user("ghost")).toBe("1000:1000");
    expect(user("builder", { passwd: null, group: null })).toBe("1000:1000");
    expect(user("toor", { passwd: null, group: null })).toBe("1000:1000");
    expect(user("not:a:user")).toBe("1000:1000");
  });
});

describe("decideUser: other users are kept, in numbers", () => {
  it.each([
    ["1000:1000", "1000:1000"],
    ["user", "1000:1000"],
    ["builder", "1234:1234"],
    ["builder:data", "1234:3000"],
    ["builder:3000", "1234:3000"],
    ["1234", "1234:1234"],
    ["01234", "1234:1234"],
    ["+1234:+3000", "1234:3000"],
    ["nobody", "65534:65534"],
  ])("%j runs as %s", (spec, expected) => {
    expect(user(spec)).toBe(expected);
  });

  it("a numeric uid not in /etc/passwd keeps its uid and gets gid 1000 (Docker would give it gid 0)", () => {
    expect(user("4321")).toBe("4321:1000");
    expect(user("4321", { passwd: null, group: null })).toBe("4321:1000");
  });

  it("never gid 0: a root group in any spelling, or an unknown group, becomes the user's primary group or 1000", () => {
    expect(user("builder:0")).toBe("1234:1234");
    expect(user("builder:00")).toBe("1234:1234");
    expect(user("builder:root")).toBe("1234:1234");
    expect(user("builder:wheel")).toBe("1234:1234");
    expect(user("builder:nosuchgroup")).toBe("1234:1234");
    expect(user("rootgroup")).toBe("2000:1000");
    expect(user("4321:0")).toBe("4321:1000");
  });
});

describe("needsAccounts: Docker is asked only when a name or a primary group must be looked up", () => {
  it.each([
    ["", false], ["0", false], ["00:1000", false], ["+0", false], ["1000:1000", false], ["1234:+3000", false],
    ["root", true], ["toor", true], ["builder", true], ["1234", true], ["1234:data", true], ["builder:1000", true],
  ])("%j: %s", (spec, expected) => {
    expect(needsAccounts(spec)).toBe(expected);
  });
});

function tarEntry(name: string, body: string, type = "0"): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, "ascii");
  header.write(Buffer.byteLength(body).toString(8).padStart(11, "0") + "\0", 124, "ascii");
  header.write(type, 156, "ascii");
  const data = Buffer.alloc(Math.ceil(Buffer.byteLength(body) / 512) * 512);
  data.write(body);
  return Buffer.concat([header, data]);
}

describe("firstFileInTar", () => {
  it("returns the first regular file, after pax headers, and null for an empty archive or only links", () => {
    expect(firstFileInTar(Buffer.concat([tarEntry("passwd", PASSWD), Buffer.alloc(1024)]))).toBe(PASSWD);
    expect(firstFileInTar(Buffer.concat([tarEntry("PaxHeader", "30 mtime=1700000000.123456789\n", "x"), tarEntry("passwd", "a:x:1:1::/:/bin/sh\n")]))).toBe("a:x:1:1::/:/bin/sh\n");
    expect(firstFileInTar(Buffer.alloc(1024))).toBeNull();
    expect(firstFileInTar(tarEntry("passwd", "", "2"))).toBeNull();
  });
});

describe("nonRootUser (who a terminal's exec would run as)", () => {
  it("takes a numeric non-zero uid, with or without a numeric gid", () => {
    expect(nonRootUser("1000:1000")).toBe(true);
    expect(nonRootUser("1000")).toBe(true);
    expect(nonRootUser("1000:0")).toBe(true);
  });
  it("refuses root by any spelling, names, empty and malformed values", () => {
    for (const u of ["", undefined, "0", "0:0", "00:1000", "+0", "-0", "root", "root:root", "user", "1000:users", "1000:1000:1", "1e3", " 1000", "4294967296"]) {
      expect(nonRootUser(u), String(u)).toBe(false);
    }
  });
});
