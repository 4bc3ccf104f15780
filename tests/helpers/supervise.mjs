// Runs a command and ends it (with its whole process group) once the process that started this one is gone.
// gantry-server.ts starts the server under test through it, so a test runner that is killed outright, or a hook that
// times out while a server is still starting, never leaves a server behind holding ports and CPU.
//   node supervise.mjs <command> [args…]     (started detached: this process leads its own group)
import { spawn } from "node:child_process";

const [command, ...args] = process.argv.slice(2);
const parent = process.ppid;

function killGroup(signal) {
  try {
    process.kill(-process.pid, signal);
  } catch {
    // Nothing left to end.
  }
}

function parentAlive() {
  try {
    process.kill(parent, 0);
    return true;
  } catch {
    return false;
  }
}

const child = spawn(command, args, { stdio: "inherit" });
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"]) {
  process.on(signal, () => child.kill(signal));
}
const watchdog = setInterval(() => {
  if (!parentAlive()) killGroup("SIGKILL");
}, 1000);
child.on("error", (e) => {
  console.error(`supervise: cannot run ${command}: ${e.message}`);
  process.exit(127);
});
child.on("exit", (code, signal) => {
  clearInterval(watchdog);
  process.exit(code ?? (signal === "SIGTERM" ? 143 : 1));
});
