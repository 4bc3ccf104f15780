-- CreateTable
CREATE TABLE "GpuSample" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "gpuUuid" TEXT NOT NULL,
    "at" DATETIME NOT NULL,
    "periodS" INTEGER NOT NULL,
    "workspaceId" TEXT,
    "userId" TEXT,
    "samples" INTEGER NOT NULL,
    "utilizationAvg" REAL,
    "utilizationMax" REAL,
    "memoryUsedMaxMb" INTEGER,
    "memoryTotalMb" INTEGER,
    "temperatureMaxC" REAL,
    "powerAvgW" REAL
);

-- CreateIndex
CREATE INDEX "GpuSample_gpuUuid_at_idx" ON "GpuSample"("gpuUuid", "at");

-- CreateIndex
CREATE INDEX "GpuSample_at_idx" ON "GpuSample"("at");

-- CreateIndex
CREATE INDEX "GpuSample_workspaceId_at_idx" ON "GpuSample"("workspaceId", "at");

