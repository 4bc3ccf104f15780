import { assertDockerReachable, assertProductionBuild } from "../helpers/prerequisites";

// Runs once before the integration files: refuse to run (loudly) rather than skip when a prerequisite is missing.
export default async function setup(): Promise<void> {
  await assertDockerReachable();
  assertProductionBuild();
}
