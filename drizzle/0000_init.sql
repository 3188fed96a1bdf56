CREATE TYPE "public"."product_type" AS ENUM('plugin', 'theme');--> statement-breakpoint
CREATE TYPE "public"."upload_status" AS ENUM('pending', 'finalized', 'refused');--> statement-breakpoint
CREATE TABLE "api_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"name" text NOT NULL,
	"prefix" text NOT NULL,
	"key_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "rate_limits" (
	"key" text PRIMARY KEY NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"count" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sessions" (
	"id_hash" text PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"email" text NOT NULL,
	"password_hash" text,
	"github_id" text,
	"bitbucket_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "products" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"type" "product_type" NOT NULL,
	"slug" text NOT NULL,
	"name" text NOT NULL,
	"homepage" text,
	"author" text,
	"author_homepage" text,
	"description" text DEFAULT '' NOT NULL,
	"installation" text DEFAULT '' NOT NULL,
	"changelog" text DEFAULT '' NOT NULL,
	"free" boolean DEFAULT false NOT NULL,
	"banner_low" text,
	"banner_high" text,
	"icon_1x" text,
	"icon_2x" text,
	"live_version_id" uuid,
	"revision" bigint DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "uploads" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"product_id" uuid NOT NULL,
	"s3_key" text NOT NULL,
	"status" "upload_status" DEFAULT 'pending' NOT NULL,
	"reasons" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "versions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"product_id" uuid NOT NULL,
	"version" text NOT NULL,
	"s3_key" text NOT NULL,
	"size" bigint NOT NULL,
	"sha256" text NOT NULL,
	"name" text NOT NULL,
	"requires" text,
	"tested" text,
	"requires_php" text,
	"author" text,
	"author_uri" text,
	"uri" text,
	"readme" jsonb,
	"upgrade_notice" text,
	"released_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "checkins" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"product_id" uuid NOT NULL,
	"host" text,
	"installed_version" text,
	"wp_version" text,
	"php_version" text,
	"locale" text,
	"code_id" uuid,
	"checked_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "code_sites" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"code_id" uuid NOT NULL,
	"host" text NOT NULL,
	"counts_toward_limit" boolean NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deactivated_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "downloads" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"product_id" uuid NOT NULL,
	"code_id" uuid,
	"version" text NOT NULL,
	"host" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "purchase_codes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"product_id" uuid NOT NULL,
	"code" text NOT NULL,
	"expires_on" date,
	"max_downloads" integer,
	"max_sites" integer,
	"downloads_used" integer DEFAULT 0 NOT NULL,
	"note" text DEFAULT '' NOT NULL,
	"batch_id" uuid,
	"revoked_at" timestamp with time zone,
	"revision" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "products" ADD CONSTRAINT "products_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "uploads" ADD CONSTRAINT "uploads_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."products"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "versions" ADD CONSTRAINT "versions_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."products"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "checkins" ADD CONSTRAINT "checkins_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."products"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "checkins" ADD CONSTRAINT "checkins_code_id_purchase_codes_id_fk" FOREIGN KEY ("code_id") REFERENCES "public"."purchase_codes"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "code_sites" ADD CONSTRAINT "code_sites_code_id_purchase_codes_id_fk" FOREIGN KEY ("code_id") REFERENCES "public"."purchase_codes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "downloads" ADD CONSTRAINT "downloads_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."products"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "downloads" ADD CONSTRAINT "downloads_code_id_purchase_codes_id_fk" FOREIGN KEY ("code_id") REFERENCES "public"."purchase_codes"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "purchase_codes" ADD CONSTRAINT "purchase_codes_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."products"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_hash_idx" ON "api_keys" USING btree ("key_hash");--> statement-breakpoint
CREATE INDEX "api_keys_user_idx" ON "api_keys" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "sessions_user_idx" ON "sessions" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "sessions_expires_idx" ON "sessions" USING btree ("expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "users_email_lower_idx" ON "users" USING btree (lower("email"));--> statement-breakpoint
CREATE UNIQUE INDEX "users_github_id_idx" ON "users" USING btree ("github_id");--> statement-breakpoint
CREATE UNIQUE INDEX "users_bitbucket_id_idx" ON "users" USING btree ("bitbucket_id");--> statement-breakpoint
CREATE UNIQUE INDEX "products_user_slug_idx" ON "products" USING btree ("user_id","type","slug");--> statement-breakpoint
CREATE INDEX "products_user_idx" ON "products" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "uploads_key_idx" ON "uploads" USING btree ("s3_key");--> statement-breakpoint
CREATE INDEX "uploads_product_idx" ON "uploads" USING btree ("product_id");--> statement-breakpoint
CREATE UNIQUE INDEX "versions_product_version_idx" ON "versions" USING btree ("product_id","version");--> statement-breakpoint
CREATE INDEX "versions_product_idx" ON "versions" USING btree ("product_id");--> statement-breakpoint
CREATE INDEX "checkins_product_time_idx" ON "checkins" USING btree ("product_id","checked_at");--> statement-breakpoint
CREATE UNIQUE INDEX "code_sites_code_host_idx" ON "code_sites" USING btree ("code_id","host");--> statement-breakpoint
CREATE INDEX "downloads_code_idx" ON "downloads" USING btree ("code_id");--> statement-breakpoint
CREATE INDEX "downloads_product_idx" ON "downloads" USING btree ("product_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "purchase_codes_code_idx" ON "purchase_codes" USING btree ("code");--> statement-breakpoint
CREATE INDEX "purchase_codes_product_idx" ON "purchase_codes" USING btree ("product_id","created_at");--> statement-breakpoint
CREATE INDEX "purchase_codes_batch_idx" ON "purchase_codes" USING btree ("batch_id");