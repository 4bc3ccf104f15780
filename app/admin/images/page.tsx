import type { Metadata } from "next";
import { AppShell, PageHeader } from "@/components/app-shell";
import { AddImageForm, ImageList } from "@/components/admin/images-admin";
import { imageUseCounts, listImages } from "@/lib/images/catalog";
import { requireAdminPage } from "../require-admin-page";

export const metadata: Metadata = { title: "Images" };
export const dynamic = "force-dynamic";

export default async function AdminImagesPage() {
  const user = await requireAdminPage("/admin/images");
  const [images, uses] = await Promise.all([listImages(), imageUseCounts()]);
  return (
    <AppShell user={user}>
      <PageHeader title="Images" description="The catalog: the only images users can launch. Each has its start command and the CUDA version it needs." />
      <div className="space-y-6">
        <section aria-labelledby="catalog-heading">
          <h2 id="catalog-heading" className="sr-only">Catalog</h2>
          <ImageList
            images={images.map((i) => ({ id: i.id, name: i.name, ref: i.ref, description: i.description, command: i.command, port: i.port, cudaVersion: i.cudaVersion, idleTimeoutMinutes: i.idleTimeoutMinutes, workspaces: uses.get(i.id) ?? 0 }))}
          />
        </section>
        <AddImageForm />
      </div>
    </AppShell>
  );
}
