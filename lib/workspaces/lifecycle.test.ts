import { describe, expect, it } from "vitest";
import { ACTION_RULES, ACTIONS, availableActions, decide, HOLDING_STATUSES, lifecycleDiagram, reservesOnClaim, STATUS_RULES, STATUSES } from "./lifecycle";

describe("the lifecycle table", () => {
  it("claims only from stable statuses: no action can start while another holds the workspace", () => {
    for (const action of ACTIONS) {
      for (const from of ACTION_RULES[action].from) expect({ action, from, transitional: STATUS_RULES[from].transitional }).toEqual({ action, from, transitional: false });
    }
  });

  it("stop during starting or pulling is refused with a sentence that says what is in progress (the GPU race)", () => {
    for (const status of ["starting", "pulling", "resetting", "deleting"] as const) {
      const d = decide("stop", status);
      expect(d.kind).toBe("refuse");
      expect(d.kind === "refuse" && d.message).toMatch(new RegExp(`while it is ${STATUS_RULES[status].doing}; try again`));
    }
  });

  it("repeating a stop or a start is harmless", () => {
    expect(decide("stop", "stopped")).toEqual({ kind: "no-op" });
    expect(decide("stop", "stopping")).toEqual({ kind: "no-op" });
    expect(decide("start", "running")).toEqual({ kind: "no-op" });
  });

  it("every transitional status holds resources, so nothing is handed out while an action may still be using it", () => {
    for (const s of STATUSES) if (STATUS_RULES[s].transitional) expect(STATUS_RULES[s].holdsResources).toBe(true);
    expect(HOLDING_STATUSES).not.toContain("stopped");
    expect(HOLDING_STATUSES).not.toContain("error");
  });

  it("reserves on claim exactly when the action ends holding resources and did not hold them before", () => {
    expect(reservesOnClaim("launch", null)).toBe(true);
    expect(reservesOnClaim("start", "stopped")).toBe(true);
    expect(reservesOnClaim("reset", "stopped")).toBe(true);
    expect(reservesOnClaim("reset", "running")).toBe(false);
    expect(reservesOnClaim("stop", "running")).toBe(false);
    expect(reservesOnClaim("delete", "running")).toBe(false);
  });

  it("offers buttons exactly for the claims the API accepts", () => {
    for (const s of STATUSES) {
      const offered = availableActions(s);
      for (const a of ACTIONS) expect({ s, a, offered: offered[a] }).toEqual({ s, a, offered: decide(a, s).kind === "claim" });
      expect(offered.open).toBe(s === "running");
    }
  });

  it("an unknown status is refused, never claimed", () => {
    for (const a of ACTIONS) expect(decide(a, "bogus").kind).toBe("refuse");
  });

  it("draws every claim as an arrow of the diagram", () => {
    const d = lifecycleDiagram();
    for (const a of ACTIONS) for (const from of ACTION_RULES[a].from) expect(d).toContain(`${from} --> ${ACTION_RULES[a].transitional}: ${a}`);
  });
});

describe("the documented diagram", () => {
  it.each(["docs/api.md", "README.md"])("%s shows exactly the diagram the table makes", async (file) => {
    const fs = await import("node:fs");
    const doc = fs.readFileSync(new URL(`../../${file}`, import.meta.url), "utf8");
    expect(doc).toContain("```mermaid\n" + lifecycleDiagram() + "\n```");
  });
});
