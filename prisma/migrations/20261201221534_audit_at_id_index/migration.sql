-- DropIndex
DROP INDEX "AuditEvent_at_idx";

-- CreateIndex
CREATE INDEX "AuditEvent_at_id_idx" ON "AuditEvent"("at", "id");

