import { describe, expect, it } from "vitest";
import { CLOSE, MAX_CONTROL_BYTES, parseControl, parseSize, shouldReconnect, TERMINAL_PATH } from "./terminal-protocol";

describe("parseControl", () => {
  it("takes a resize with whole, in-range numbers", () => {
    expect(parseControl('{"type":"resize","cols":120,"rows":40}')).toEqual({ type: "resize", cols: 120, rows: 40 });
    expect(parseControl('{"type":"resize","cols":1000,"rows":500}')).toEqual({ type: "resize", cols: 1000, rows: 500 });
  });
  it("refuses anything else", () => {
    for (const text of [
      "",
      "resize",
      "null",
      "[]",
      '"resize"',
      '{"type":"resize"}',
      '{"type":"resize","cols":0,"rows":24}',
      '{"type":"resize","cols":-1,"rows":24}',
      '{"type":"resize","cols":80.5,"rows":24}',
      '{"type":"resize","cols":"80","rows":"24"}',
      '{"type":"resize","cols":1e309,"rows":24}',
      '{"type":"resize","cols":1001,"rows":24}',
      '{"type":"resize","cols":80,"rows":501}',
      '{"type":"resize","cols":80,"rows":24,"extra":1}',
      '{"type":"input","data":"ls"}',
      '{"type":"resize","cols":9007199254740993,"rows":24}',
      `{"type":"resize","cols":80,"rows":24${" ".repeat(MAX_CONTROL_BYTES)}}`,
    ]) {
      expect(parseControl(text), text).toBeNull();
    }
  });
});

describe("parseSize (query parameters)", () => {
  it("takes digits in range and refuses the rest", () => {
    expect(parseSize("80", "24")).toEqual({ cols: 80, rows: 24 });
    expect(parseSize("0", "24")).toBeNull();
    expect(parseSize("80", null)).toBeNull();
    expect(parseSize("8e1", "24")).toBeNull();
    expect(parseSize("+80", "24")).toBeNull();
    expect(parseSize("99999", "24")).toBeNull();
  });
});

describe("TERMINAL_PATH and reconnects", () => {
  it("matches only the terminal path of one workspace", () => {
    expect(TERMINAL_PATH.exec("/api/workspaces/ws0123/terminal")?.[1]).toBe("ws0123");
    for (const p of ["/api/workspaces/terminal", "/api/workspaces/a/b/terminal", "/api/workspaces/a/terminal/", "/api/workspaces/../terminal"]) {
      expect(TERMINAL_PATH.test(p), p).toBe(false);
    }
  });
  it("reconnects after a broken connection, never after the server ended the terminal on purpose", () => {
    expect(shouldReconnect(1006)).toBe(true);
    expect(shouldReconnect(CLOSE.serverRestart)).toBe(true);
    for (const code of [1000, CLOSE.shellExited, CLOSE.sessionEnded, CLOSE.accessEnded, CLOSE.workspaceStopped, CLOSE.protocol, CLOSE.tooBig, CLOSE.tooMany]) {
      expect(shouldReconnect(code), String(code)).toBe(false);
    }
  });
});
