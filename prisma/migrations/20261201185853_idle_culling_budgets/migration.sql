-- AlterTable
ALTER TABLE "Image" ADD COLUMN "idleTimeoutMinutes" INTEGER;

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Quota" (
    "userId" TEXT NOT NULL PRIMARY KEY,
    "maxGpus" INTEGER NOT NULL,
    "maxMemoryGb" REAL NOT NULL,
    "maxCpus" REAL NOT NULL,
    "maxWorkspaces" INTEGER NOT NULL,
    "gpuHoursBudget" REAL,
    "budgetPeriod" TEXT NOT NULL DEFAULT 'week',
    CONSTRAINT "Quota_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Quota" ("maxCpus", "maxGpus", "maxMemoryGb", "maxWorkspaces", "userId") SELECT "maxCpus", "maxGpus", "maxMemoryGb", "maxWorkspaces", "userId" FROM "Quota";
DROP TABLE "Quota";
ALTER TABLE "new_Quota" RENAME TO "Quota";
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
    "idleStopAt" DATETIME,
    "idleStopReason" TEXT,
    "idleSnoozedAt" DATETIME,
    "idleSnoozes" INTEGER NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Workspace_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Workspace_imageId_fkey" FOREIGN KEY ("imageId") REFERENCES "Image" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
INSERT INTO "new_Workspace" ("action", "actionId", "actionLeaseUntil", "actionOwner", "cancelRequested", "containerGpus", "containerId", "containerName", "cpus", "createdAt", "gpus", "id", "imageDigest", "imageId", "imageRef", "jupyterToken", "lastActivityAt", "memoryGb", "name", "startedAt", "status", "statusMessage", "updatedAt", "upstream", "userId") SELECT "action", "actionId", "actionLeaseUntil", "actionOwner", "cancelRequested", "containerGpus", "containerId", "containerName", "cpus", "createdAt", "gpus", "id", "imageDigest", "imageId", "imageRef", "jupyterToken", "lastActivityAt", "memoryGb", "name", "startedAt", "status", "statusMessage", "updatedAt", "upstream", "userId" FROM "Workspace";
DROP TABLE "Workspace";
ALTER TABLE "new_Workspace" RENAME TO "Workspace";
CREATE UNIQUE INDEX "Workspace_containerName_key" ON "Workspace"("containerName");
CREATE INDEX "Workspace_status_idx" ON "Workspace"("status");
CREATE UNIQUE INDEX "Workspace_userId_name_key" ON "Workspace"("userId", "name");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

