// The workspace lifecycle, as one table: every status, every action, and what each means for resources. Pure data
// and pure functions, read by the runner (run-action.ts), the reconciler, quota accounting, the dashboard's buttons
// and the admin pages. No other list of statuses or allowed actions exists.

export const STATUSES = ["pulling", "starting", "running", "stopping", "resetting", "deleting", "stopped", "error"] as const;
export type WorkspaceStatus = (typeof STATUSES)[number];

export type StatusRule = {
  /** An action is under way: the workspace is claimed by it, and every other action waits or is refused. */
  transitional: boolean;
  /** The workspace holds its GPUs, memory and CPUs (counted against quota and host capacity). */
  holdsResources: boolean;
  /** Its Jupyter answers: the proxy, "Open" and (later) SSH and the terminal may reach it. */
  serves: boolean;
  /** How a sentence names the status: "This workspace is <doing>." */
  doing: string;
};

export const STATUS_RULES: Record<WorkspaceStatus, StatusRule> = {
  pulling: { transitional: true, holdsResources: true, serves: false, doing: "pulling its image" },
  starting: { transitional: true, holdsResources: true, serves: false, doing: "starting" },
  running: { transitional: false, holdsResources: true, serves: true, doing: "running" },
  stopping: { transitional: true, holdsResources: true, serves: false, doing: "stopping" },
  resetting: { transitional: true, holdsResources: true, serves: false, doing: "being reset" },
  deleting: { transitional: true, holdsResources: true, serves: false, doing: "being deleted" },
  stopped: { transitional: false, holdsResources: false, serves: false, doing: "stopped" },
  error: { transitional: false, holdsResources: false, serves: false, doing: "in error" },
};

export const ACTIONS = ["launch", "start", "stop", "reset", "delete"] as const;
export type Action = (typeof ACTIONS)[number];

export type ActionRule = {
  /** Stable statuses the action may claim the workspace from (a launch claims a workspace that does not exist yet). */
  from: WorkspaceStatus[];
  /** Statuses in which asking for the action again changes nothing and answers the workspace as it is. */
  noOpIn: WorkspaceStatus[];
  /** The status written when the action claims the workspace (a launch whose image is missing starts in "pulling"). */
  transitional: WorkspaceStatus;
  /** The status written when it succeeds; null: the workspace is gone. */
  final: WorkspaceStatus | null;
  /** Where a failure leaves the workspace: "error" (resources released) or "restore" (the status it was claimed from). */
  onFailure: "error" | "restore";
  /** A phrase for messages: "Cannot <verb> …". */
  verb: string;
};

export const ACTION_RULES: Record<Action, ActionRule> = {
  launch: { from: [], noOpIn: [], transitional: "starting", final: "running", onFailure: "error", verb: "launch" },
  start: { from: ["stopped", "error"], noOpIn: ["running", "starting"], transitional: "starting", final: "running", onFailure: "error", verb: "start" },
  stop: { from: ["running", "error"], noOpIn: ["stopped", "stopping"], transitional: "stopping", final: "stopped", onFailure: "restore", verb: "stop" },
  reset: { from: ["running", "stopped", "error"], noOpIn: [], transitional: "resetting", final: "running", onFailure: "error", verb: "reset" },
  delete: { from: ["running", "stopped", "error"], noOpIn: [], transitional: "deleting", final: null, onFailure: "restore", verb: "delete" },
};

/** Statuses that hold GPUs, memory and CPUs: quota use and host headroom count these. */
export const HOLDING_STATUSES: WorkspaceStatus[] = STATUSES.filter((s) => STATUS_RULES[s].holdsResources);

export function isStatus(s: string): s is WorkspaceStatus {
  return (STATUSES as readonly string[]).includes(s);
}

export function statusRule(s: string): StatusRule {
  return STATUS_RULES[isStatus(s) ? s : "error"];
}

export type Decision =
  | { kind: "claim" }
  | { kind: "no-op" }
  | { kind: "refuse"; message: string };

/** What asking for `action` on a workspace in `status` does. */
export function decide(action: Action, status: string): Decision {
  const rule = ACTION_RULES[action];
  if (!isStatus(status)) return { kind: "refuse", message: `Cannot ${rule.verb} this workspace: its status "${status}" is unknown.` };
  if (rule.from.includes(status)) return { kind: "claim" };
  if (rule.noOpIn.includes(status)) return { kind: "no-op" };
  const s = STATUS_RULES[status];
  if (s.transitional) {
    return { kind: "refuse", message: `Cannot ${rule.verb} this workspace while it is ${s.doing}; try again when that has finished.` };
  }
  return { kind: "refuse", message: `Cannot ${rule.verb} this workspace while it is ${s.doing}.` };
}

/** Does the action need resources reserved when it claims a workspace in `from`? (Those it already holds are kept.) */
export function reservesOnClaim(action: Action, from: WorkspaceStatus | null): boolean {
  const final = ACTION_RULES[action].final;
  return final !== null && STATUS_RULES[final].holdsResources && (from === null || !STATUS_RULES[from].holdsResources);
}

/** Which actions a workspace in `status` offers: the dashboard's buttons and the admin pages read this. */
export function availableActions(status: string): Record<Action | "open", boolean> {
  const offered = (a: Action) => isStatus(status) && ACTION_RULES[a].from.includes(status);
  return {
    open: statusRule(status).serves,
    launch: false,
    start: offered("start"),
    stop: offered("stop"),
    reset: offered("reset"),
    delete: offered("delete"),
  };
}

/** The states and arrows of the lifecycle as a Mermaid diagram, made from the table (README and docs/api.md show it). */
export function lifecycleDiagram(): string {
  const arrows = new Set<string>(["[*] --> pulling: launch (image missing)", "[*] --> starting: launch", "pulling --> starting: image pulled", "pulling --> error: failed"]);
  for (const action of ACTIONS) {
    const rule = ACTION_RULES[action];
    for (const from of rule.from) arrows.add(`${from} --> ${rule.transitional}: ${action}`);
    arrows.add(`${rule.transitional} --> ${rule.final ?? "[*]"}: done`);
    if (rule.onFailure === "error") arrows.add(`${rule.transitional} --> error: failed`);
    else for (const from of rule.from) arrows.add(`${rule.transitional} --> ${from}: failed, put back`);
  }
  arrows.add("running --> error: container died (reconciler)");
  arrows.add("running --> stopped: main process exited (reconciler)");
  return ["stateDiagram-v2", ...[...arrows].map((a) => `  ${a}`)].join("\n");
}
