CREATE TYPE "public"."version_status" AS ENUM('verifying', 'ready', 'refused');--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "status" "version_status" DEFAULT 'verifying' NOT NULL;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "reasons" jsonb;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "verified_bytes" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "verify_heartbeat_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "verify_attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "uploads_expires_idx" ON "uploads" USING btree ("expires_at");--> statement-breakpoint
-- Versions released before verification existed were offered already: they stay offered.
UPDATE "versions" SET "status" = 'ready', "verified_bytes" = "size";
