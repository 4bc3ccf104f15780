import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/paths";
import { PYTORCH_IMAGE, docker, exec, startGantry, type GantryEnv } from "../helpers/workspaces";

// The reference workspace image (images/pytorch/Dockerfile) and its offline twin (scripts/ci/images/pytorch): a
// PyTorch DataLoader with 4 workers moving 64 MB tensors completes inside a Gantry workspace, and dies in the same
// image under Docker's default 64 MB /dev/shm — so Gantry's /dev/shm default is what makes it work.

const DATALOADER = fs.readFileSync(path.join(REPO_ROOT, "tests", "fixtures", "dataloader-shm.py"), "utf8");
const REFERENCE = fs.readFileSync(path.join(REPO_ROOT, "images", "pytorch", "Dockerfile"), "utf8");
const JUPYTER_COMMAND = "python3 -m notebook --ip=0.0.0.0 --port={port} --no-browser --NotebookApp.base_url={base_url}";
const CONTROL_LABEL = "gantry-test.pytorch-control";

let g: GantryEnv;
let ws: { id: string; containerId: string };

beforeAll(async () => {
  g = await startGantry({ prefix: "gantry-pytorch-" });
  const imageId = await g.addImage({ name: "pytorch", ref: PYTORCH_IMAGE, command: JUPYTER_COMMAND });
  const launched = await g.api("/api/workspaces", { token: g.adminToken, json: { name: "train", imageId, gpus: 0, memoryGb: 4, cpus: 1 } });
  if (launched.status !== 201) throw new Error(`launch answered ${launched.status}: ${launched.text}`);
  ws = launched.body;
}, 300_000);

afterAll(async () => {
  const leftovers = await docker.listContainers({ all: true, filters: { label: [CONTROL_LABEL] } }).catch(() => []);
  for (const c of leftovers) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
  await g?.cleanup();
  await g?.server.stop();
  g?.dataDir.remove();
});

describe("the reference image", () => {
  it("pins a PyTorch + CUDA base by a tag naming both versions, never latest; runs as uid 1000 under tini; ships sshd without host keys", () => {
    const from = /^ARG PYTORCH_IMAGE=(\S+)$/m.exec(REFERENCE)?.[1] ?? "";
    expect(from).toMatch(/^pytorch\/pytorch:\d+\.\d+\.\d+-cuda\d+\.\d+-cudnn\d+-(runtime|devel)$/);
    expect(REFERENCE).toMatch(/^FROM \$\{PYTORCH_IMAGE\}$/m);
    expect(REFERENCE).not.toMatch(/:latest\b/);
    expect(REFERENCE).toMatch(/^USER 1000:1000$/m);
    expect(REFERENCE).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--"\]$/m);
    expect(REFERENCE).toMatch(/openssh-server/);
    expect(REFERENCE).toMatch(/rm -f \/etc\/ssh\/ssh_host_\*/);
    expect(REFERENCE).toMatch(/jupyterlab==\d+\.\d+\.\d+/);
  });
});

describe("its offline twin, as a Gantry workspace", () => {
  it("runs as uid 1000 under tini, in /workspace, with sshd installed", async () => {
    const out = await exec(ws.containerId, ["sh", "-c", "id -u; cat /proc/1/comm; pwd; test -x /usr/sbin/sshd && echo sshd"]);
    expect(out.stdout.trim().split("\n")).toEqual(["1000", "tini", "/workspace", "sshd"]);
  });

  it("a DataLoader with num_workers=4 moving 64 MB tensors completes (Gantry's /dev/shm: half the memory, here 2 GB)", async () => {
    const out = await exec(ws.containerId, ["python3", "-c", DATALOADER]);
    expect(out.exitCode, out.stderr.slice(-2000)).toBe(0);
    const [ok, bytes, shm] = out.stdout.trim().split("\n").pop()!.split(" ");
    expect(ok).toBe("ok");
    expect(Number(bytes)).toBe(16 * 64 * 1024 * 1024);
    expect(Number(shm)).toBe(2 * 1024 ** 3);
  }, 180_000);

  it("the same DataLoader dies under Docker's default 64 MB /dev/shm (the same image, memory and user)", async () => {
    const container = await docker.createContainer({
      Image: PYTORCH_IMAGE,
      Entrypoint: ["/usr/bin/tini", "--"],
      Cmd: ["python3", "-c", DATALOADER],
      User: "1000:1000",
      Labels: { [CONTROL_LABEL]: "1" },
      HostConfig: { Memory: 4 * 1024 ** 3, NetworkMode: "none" },
    });
    try {
      await container.start();
      const { StatusCode } = (await container.wait()) as { StatusCode: number };
      const logs = (await container.logs({ stdout: true, stderr: true })).toString("utf8");
      expect(StatusCode).not.toBe(0);
      // Running out of /dev/shm shows one of two ways, by where a worker's tensor hits the limit: a worker killed by
      // SIGBUS while filling a mapped page ("exited unexpectedly"), or torch's own write of the shared file failing
      // with ENOSPC (seen in CI). Both are the 64 MB /dev/shm; anything else (a Python error, OOM) still fails here.
      expect(logs).toMatch(/DataLoader worker \(pid\(s\) [^)]*\) exited unexpectedly|unable to write to file <\/torch_[^>]*>: No space left on device/);
      const info = await container.inspect();
      expect(info.HostConfig.ShmSize).toBe(64 * 1024 * 1024);
    } finally {
      await container.remove({ force: true }).catch(() => {});
    }
  }, 180_000);
});
