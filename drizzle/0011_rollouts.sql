CREATE TYPE "public"."version_channel" AS ENUM('stable', 'beta');--> statement-breakpoint
ALTER TABLE "products" ADD COLUMN "default_rollout_percent" smallint DEFAULT 100 NOT NULL;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "rollout_percent" smallint DEFAULT 100 NOT NULL;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "rollout_paused" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "channel" "version_channel" DEFAULT 'stable' NOT NULL;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "pulled_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "purchase_codes" ADD COLUMN "beta" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "products" ADD CONSTRAINT "products_default_rollout_percent_range" CHECK ("products"."default_rollout_percent" between 1 and 100);--> statement-breakpoint
ALTER TABLE "versions" ADD CONSTRAINT "versions_rollout_percent_range" CHECK ("versions"."rollout_percent" between 1 and 100);