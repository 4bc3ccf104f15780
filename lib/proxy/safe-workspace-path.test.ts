import { describe, expect, it } from "vitest";
import { safeWorkspacePath } from "./safe-workspace-path";

const id = "ws0123456789abcdef0123";
const prefix = `/w/${id}/`;

describe("safeWorkspacePath", () => {
  it("keeps paths inside the workspace", () => {
    expect(safeWorkspacePath(id, `${prefix}tree?x=1#y`)).toBe(`${prefix}tree?x=1#y`);
    expect(safeWorkspacePath(id, `${prefix}notebooks/a%20b.ipynb`)).toBe(`${prefix}notebooks/a%20b.ipynb`);
  });

  it.each([
    [null],
    ["//evil.com"],
    ["https://evil.com/w/" + id + "/"],
    ["/\\evil.com"],
    [`${prefix}../../w/ws9999999999999999999a/`],
    [`${prefix}%2e%2e/%2e%2e/evil`],
    [`${prefix}./../`],
    [`/w/ws9999999999999999999a/tree`],
    [`${prefix}tree\nx`],
    ["javascript:alert(1)"],
    [`${prefix}_gantry/start?next=${prefix}`],
    [`${prefix}_gantry/grant?grant=x`],
  ])("turns %s into the workspace prefix", (next) => {
    expect(safeWorkspacePath(id, next)).toBe(prefix);
  });
});
