import { describe, expect, it } from "vitest";
import { csvCell, toCsv } from "./usage-csv";

describe("usage CSV", () => {
  it("writes plain text and numbers as they are", () => {
    expect(toCsv(["a", "b"], [["train", 1.5], [null, 0]])).toBe("a,b\r\ntrain,1.5\r\n,0\r\n");
  });

  it("quotes a cell with a comma, quote or line break and doubles its quotes", () => {
    expect(csvCell('my "big", run')).toBe('"my ""big"", run"');
    expect(csvCell("two\nlines")).toBe('"two\nlines"');
    expect(csvCell("cr\rhere")).toBe('"cr\rhere"');
  });

  it.each(["=HYPERLINK(\"http://evil\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"])("keeps %j from running as a formula", (value) => {
    const cell = csvCell(value);
    const unquoted = cell.startsWith('"') ? cell.slice(1, -1).replace(/""/g, '"') : cell;
    expect(unquoted).toBe(`'${value}`);
  });

  it("guards and quotes at once: a formula with a comma", () => {
    expect(csvCell('=cmd|" /C calc",x')).toBe(`"'=cmd|"" /C calc"",x"`);
  });

  it("leaves numbers alone (never negative here) and drops non-finite ones", () => {
    expect(csvCell(-1)).toBe("-1");
    expect(csvCell(Number.NaN)).toBe("");
    expect(csvCell("a=b")).toBe("a=b");
  });
});
