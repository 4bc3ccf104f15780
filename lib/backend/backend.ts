import { config } from "../config";
import { dockerBackend } from "../docker/backend";
import type { WorkspaceBackend } from "./types";

// The one line of configuration per backend: GANTRY_BACKEND picks the implementation (only "docker" today).
const BACKENDS: Record<string, () => WorkspaceBackend> = {
  docker: () => dockerBackend,
};

export function backend(): WorkspaceBackend {
  const make = BACKENDS[config.backend];
  if (!make) throw new Error(`GANTRY_BACKEND=${config.backend} is not a known backend (known: ${Object.keys(BACKENDS).join(", ")})`);
  return make();
}

export function knownBackends(): string[] {
  return Object.keys(BACKENDS);
}
