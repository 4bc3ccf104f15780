import crypto from "node:crypto";
import ssh2 from "ssh2";
import { expect, test } from "./fixtures";
import { createUser, saveScreenshot, signIn } from "./harness";

// ssh-keygen -lf's fingerprint of a public key line, computed the same way (SHA-256 of the key's wire form).
function fingerprint(line: string): string {
  return "SHA256:" + crypto.createHash("sha256").update(Buffer.from(line.split(" ")[1], "base64")).digest("base64").replace(/=+$/, "");
}

test("settings: add an SSH key (fingerprint shown), a bad key is refused with its reason, remove it", async ({ page, request }, testInfo) => {
  const fay = await createUser(request, "fay");
  await signIn(page, fay.email, fay.password);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
  const section = page.getByRole("region", { name: "SSH keys" });
  await expect(section.getByText("You have no SSH keys.")).toBeVisible();
  await expect(section.getByTestId("ssh-host-fingerprint")).toHaveText(/^SHA256:/);

  await section.getByLabel("Public key").fill("ssh-dss AAAAB3NzaC1kc3MAAACBAP== old");
  await section.getByRole("button", { name: "Add key" }).click();
  await expect(section.getByRole("alert")).toContainText("DSA");
  await expect(section.getByLabel("Public key")).toHaveAttribute("aria-invalid", "true");

  const key = ssh2.utils.generateKeyPairSync("ed25519", { comment: "fay@laptop" }).public.trim();
  await section.getByLabel("Key name").fill("laptop");
  await section.getByLabel("Public key").fill(key);
  await section.getByRole("button", { name: "Add key" }).click();
  await expect(section.getByRole("rowheader", { name: "laptop" })).toBeVisible();
  await expect(section.getByRole("row").filter({ hasText: "laptop" })).toContainText(fingerprint(key));
  await saveScreenshot(page, testInfo, "settings-ssh-keys");

  await section.getByRole("button", { name: "Remove laptop" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Remove key" }).click();
  await expect(section.getByText("You have no SSH keys.")).toBeVisible();
});
