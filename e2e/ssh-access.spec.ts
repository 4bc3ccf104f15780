import { expect, test } from "./fixtures";
import { createUser, harness, signIn } from "./harness";

test("workspace card: the folded SSH block shows the ssh command and a ~/.ssh/config block for that workspace", async ({ page, request }) => {
  const h = harness();
  const gus = await createUser(request, "gus");
  await signIn(page, gus.email, gus.password);
  const launched = await page.request.post("/api/workspaces", {
    headers: { origin: h.url },
    data: { name: "ssh-card", imageId: h.image.id, gpus: 0, memoryGb: 1, cpus: 0.5 },
  });
  expect(launched.status(), await launched.text()).toBe(201);
  const ws = (await launched.json()) as { id: string };
  const gateway = (await (await page.request.get("/api/ssh")).json()) as { host: string; port: number; fingerprint: string };
  try {
    await page.reload();
    const card = page.getByRole("region", { name: "ssh-card" });
    await card.getByText("SSH and VS Code").click();
    await expect(card.getByLabel("SSH command for ssh-card")).toHaveText(`ssh -p ${gateway.port} ${ws.id}@${gateway.host}`);
    const block = card.getByLabel("SSH config block for ssh-card");
    await expect(block).toContainText("Host gantry-ssh-card");
    await expect(block).toContainText(`User ${ws.id}`);
    await expect(block).toContainText(`Port ${gateway.port}`);
    await expect(card).toContainText(gateway.fingerprint);
  } finally {
    await page.request.delete(`/api/workspaces/${ws.id}`, { headers: { origin: h.url } });
  }
});
