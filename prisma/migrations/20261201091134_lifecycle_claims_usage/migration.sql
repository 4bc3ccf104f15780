-- CreateTable
CREATE TABLE "UsageInterval" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "workspaceId" TEXT NOT NULL,
    "workspaceName" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "userEmail" TEXT NOT NULL,
    "gpuUuids" TEXT NOT NULL DEFAULT '[]',
    "gpus" INTEGER NOT NULL,
    "memoryGb" REAL NOT NULL,
    "cpus" REAL NOT NULL,
    "startedAt" DATETIME NOT NULL,
    "endedAt" DATETIME,
    "endReason" TEXT
);

-- CreateTable
CREATE TABLE "AppInstance" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "host" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "startedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastSeenAt" DATETIME NOT NULL
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Workspace" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "userId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "imageId" TEXT NOT NULL,
    "imageDigest" TEXT,
    "imageRef" TEXT NOT NULL,
    "gpus" INTEGER NOT NULL,
    "memoryGb" REAL NOT NULL,
    "cpus" REAL NOT NULL,
    "status" TEXT NOT NULL,
    "statusMessage" TEXT NOT NULL DEFAULT '',
    "action" TEXT,
    "actionId" TEXT,
    "actionOwner" TEXT,
    "actionLeaseUntil" DATETIME,
    "cancelRequested" BOOLEAN NOT NULL DEFAULT false,
    "upstream" TEXT,
    "containerId" TEXT,
    "containerName" TEXT NOT NULL,
    "containerGpus" TEXT NOT NULL DEFAULT '[]',
    "jupyterToken" TEXT NOT NULL,
    "startedAt" DATETIME,
    "lastActivityAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Workspace_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Workspace_imageId_fkey" FOREIGN KEY ("imageId") REFERENCES "Image" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
INSERT INTO "new_Workspace" ("containerGpus", "containerId", "containerName", "cpus", "createdAt", "gpus", "id", "imageDigest", "imageId", "imageRef", "jupyterToken", "lastActivityAt", "memoryGb", "name", "startedAt", "status", "statusMessage", "updatedAt", "userId") SELECT "containerGpus", "containerId", "containerName", "cpus", "createdAt", "gpus", "id", "imageDigest", "imageId", "imageRef", "jupyterToken", "lastActivityAt", "memoryGb", "name", "startedAt", "status", "statusMessage", "updatedAt", "userId" FROM "Workspace";
DROP TABLE "Workspace";
ALTER TABLE "new_Workspace" RENAME TO "Workspace";
CREATE UNIQUE INDEX "Workspace_containerName_key" ON "Workspace"("containerName");
CREATE INDEX "Workspace_status_idx" ON "Workspace"("status");
CREATE UNIQUE INDEX "Workspace_userId_name_key" ON "Workspace"("userId", "name");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "UsageInterval_userId_startedAt_idx" ON "UsageInterval"("userId", "startedAt");

-- CreateIndex
CREATE INDEX "UsageInterval_workspaceId_endedAt_idx" ON "UsageInterval"("workspaceId", "endedAt");

-- CreateIndex
CREATE INDEX "UsageInterval_startedAt_idx" ON "UsageInterval"("startedAt");

