import type { Metadata } from "next";
import { AppShell, PageHeader } from "@/components/app-shell";
import { HostSettingsForm } from "@/components/admin/host-settings-form";
import { IdleSettingsForm } from "@/components/admin/idle-settings-form";
import { MetricsTokenSettings } from "@/components/admin/metrics-token-settings";
import { getSettings } from "@/lib/settings/settings";
import { metricsTokenStatus } from "@/lib/metrics/metrics-token";
import { config } from "@/lib/config";
import { ADMIN_ACCESS_NEEDS_ORIGINS, perWorkspaceOrigins } from "@/lib/proxy/workspace-origin";
import { requireAdminPage } from "../require-admin-page";

export const metadata: Metadata = { title: "Host settings" };
export const dynamic = "force-dynamic";

export default async function AdminSettingsPage() {
  const user = await requireAdminPage("/admin/settings");
  const [settings, metrics] = await Promise.all([getSettings(), metricsTokenStatus()]);
  return (
    <AppShell user={user}>
      <PageHeader title="Host settings" description="What reaches workspaces from the host, who may open them, and Prometheus metrics." />
      <HostSettingsForm
        allowAdminWorkspaceAccess={settings.allowAdminWorkspaceAccess}
        dataPath={settings.dataPath}
        adminAccessBlockedBecause={perWorkspaceOrigins() ? null : ADMIN_ACCESS_NEEDS_ORIGINS}
      />
      <IdleSettingsForm settings={settings.idleCulling} />
      <div className="mt-6">
        <MetricsTokenSettings status={metrics} metricsUrl={`${config.publicUrl}/metrics`} />
      </div>
    </AppShell>
  );
}
