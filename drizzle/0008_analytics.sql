CREATE TABLE "analytics_last_seen_daily" (
	"product_id" uuid NOT NULL,
	"day" date NOT NULL,
	"dimension" text NOT NULL,
	"value" text NOT NULL,
	"sites" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "analytics_last_seen_daily_product_id_day_dimension_value_pk" PRIMARY KEY("product_id","day","dimension","value")
);
--> statement-breakpoint
CREATE TABLE "analytics_daily" (
	"product_id" uuid NOT NULL,
	"day" date NOT NULL,
	"dimension" text NOT NULL,
	"value" text NOT NULL,
	"sites" integer DEFAULT 0 NOT NULL,
	"checks" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "analytics_daily_product_id_dimension_day_value_pk" PRIMARY KEY("product_id","dimension","day","value")
);
--> statement-breakpoint
CREATE TABLE "analytics_site_days" (
	"product_id" uuid NOT NULL,
	"day" date NOT NULL,
	"dimension" text NOT NULL,
	"value" text NOT NULL,
	"host" text NOT NULL,
	CONSTRAINT "analytics_site_days_product_id_day_dimension_value_host_pk" PRIMARY KEY("product_id","day","dimension","value","host")
);
--> statement-breakpoint
CREATE TABLE "product_sites" (
	"product_id" uuid NOT NULL,
	"host" text NOT NULL,
	"installed_version" text,
	"wp_version" text,
	"php_version" text,
	"locale" text,
	"license" text NOT NULL,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	"checks" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "product_sites_product_id_host_pk" PRIMARY KEY("product_id","host")
);
--> statement-breakpoint
-- Hand-written (drizzle-kit cannot declare partitioning): checkins becomes range-partitioned by month on checked_at.
ALTER TABLE "checkins" RENAME TO "checkins_unpartitioned";--> statement-breakpoint
ALTER TABLE "checkins_unpartitioned" RENAME CONSTRAINT "checkins_pkey" TO "checkins_unpartitioned_pkey";--> statement-breakpoint
ALTER TABLE "checkins_unpartitioned" RENAME CONSTRAINT "checkins_product_id_products_id_fk" TO "checkins_unpartitioned_product_fk";--> statement-breakpoint
ALTER TABLE "checkins_unpartitioned" RENAME CONSTRAINT "checkins_code_id_purchase_codes_id_fk" TO "checkins_unpartitioned_code_fk";--> statement-breakpoint
ALTER INDEX "checkins_product_time_idx" RENAME TO "checkins_unpartitioned_product_time_idx";--> statement-breakpoint
CREATE TABLE "checkins" (
	"id" bigint DEFAULT nextval('checkins_id_seq'::regclass) NOT NULL,
	"product_id" uuid NOT NULL,
	"host" text,
	"installed_version" text,
	"wp_version" text,
	"php_version" text,
	"locale" text,
	"code_id" uuid,
	"checked_at" timestamp with time zone NOT NULL,
	"checks" integer DEFAULT 1 NOT NULL,
	"license" text,
	CONSTRAINT "checkins_id_checked_at_pk" PRIMARY KEY("id","checked_at")
) PARTITION BY RANGE ("checked_at");--> statement-breakpoint
ALTER SEQUENCE "checkins_id_seq" OWNED BY "checkins"."id";--> statement-breakpoint
ALTER TABLE "checkins" ADD CONSTRAINT "checkins_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."products"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "checkins" ADD CONSTRAINT "checkins_code_id_purchase_codes_id_fk" FOREIGN KEY ("code_id") REFERENCES "public"."purchase_codes"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "checkins_product_time_idx" ON "checkins" USING btree ("product_id","checked_at");--> statement-breakpoint
CREATE TABLE "checkins_default" PARTITION OF "checkins" DEFAULT;--> statement-breakpoint
DO $$
DECLARE m timestamptz;
BEGIN
  FOR m IN SELECT generate_series(
      date_trunc('month', coalesce((SELECT min("checked_at") FROM "checkins_unpartitioned"), now()) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
      date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + interval '2 months', interval '1 month')
  LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF "checkins" FOR VALUES FROM (%L) TO (%L)',
      'checkins_p' || to_char(m AT TIME ZONE 'UTC', 'YYYYMM'), m, (m AT TIME ZONE 'UTC' + interval '1 month') AT TIME ZONE 'UTC');
  END LOOP;
END $$;--> statement-breakpoint
INSERT INTO "checkins" ("id", "product_id", "host", "installed_version", "wp_version", "php_version", "locale", "code_id", "checked_at", "checks", "license")
  SELECT "id", "product_id", "host", "installed_version", "wp_version", "php_version", "locale", "code_id", "checked_at", "checks",
    CASE WHEN "code_id" IS NULL THEN 'none' ELSE 'valid' END FROM "checkins_unpartitioned";--> statement-breakpoint
DROP TABLE "checkins_unpartitioned";--> statement-breakpoint
ALTER TABLE "analytics_daily" ADD CONSTRAINT "analytics_daily_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."products"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analytics_last_seen_daily" ADD CONSTRAINT "analytics_last_seen_daily_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."products"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analytics_site_days" ADD CONSTRAINT "analytics_site_days_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."products"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "product_sites" ADD CONSTRAINT "product_sites_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."products"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "analytics_site_days_day_idx" ON "analytics_site_days" USING btree ("day");--> statement-breakpoint
CREATE INDEX "product_sites_last_seen_idx" ON "product_sites" USING btree ("product_id","last_seen_at");--> statement-breakpoint
CREATE INDEX "checkins_product_host_idx" ON "checkins" USING btree ("product_id","host");--> statement-breakpoint
-- Backfill the analytics tables from the check-ins already recorded (the same SQL as `wharf analytics:rebuild`).
INSERT INTO "product_sites" ("product_id", "host", "installed_version", "wp_version", "php_version", "locale", "license", "first_seen_at", "last_seen_at", "checks")
  SELECT DISTINCT ON ("product_id", "host") "product_id", "host", "installed_version", "wp_version", "php_version", "locale", "license",
    min("checked_at") OVER w, "checked_at", sum("checks") OVER w
  FROM "checkins" WHERE "host" IS NOT NULL
  WINDOW w AS (PARTITION BY "product_id", "host")
  ORDER BY "product_id", "host", "checked_at" DESC;--> statement-breakpoint
INSERT INTO "analytics_daily" ("product_id", "day", "dimension", "value", "sites", "checks")
  SELECT product_id, day,
    CASE WHEN grouping(v) = 0 THEN 'version' WHEN grouping(wp) = 0 THEN 'wordpress' WHEN grouping(php) = 0 THEN 'php'
         WHEN grouping(loc) = 0 THEN 'locale' WHEN grouping(lic) = 0 THEN 'license' ELSE 'all' END,
    coalesce(CASE WHEN grouping(v) = 0 THEN v WHEN grouping(wp) = 0 THEN wp WHEN grouping(php) = 0 THEN php
         WHEN grouping(loc) = 0 THEN loc WHEN grouping(lic) = 0 THEN lic END, ''),
    count(DISTINCT host)::int,
    CASE WHEN grouping(v) + grouping(wp) + grouping(php) + grouping(loc) + grouping(lic) = 5 THEN sum(checks) ELSE 0 END
  FROM (SELECT product_id, (checked_at AT TIME ZONE 'UTC')::date AS day, host, checks, coalesce(installed_version, '') AS v,
          coalesce(wp_version, '') AS wp, coalesce(php_version, '') AS php, coalesce(locale, '') AS loc, license AS lic FROM "checkins") c
  GROUP BY GROUPING SETS ((product_id, day), (product_id, day, v), (product_id, day, wp), (product_id, day, php), (product_id, day, loc), (product_id, day, lic))
  HAVING count(DISTINCT host) > 0 OR grouping(v) + grouping(wp) + grouping(php) + grouping(loc) + grouping(lic) = 5;--> statement-breakpoint
INSERT INTO "analytics_site_days" ("product_id", "day", "dimension", "value", "host")
  SELECT DISTINCT i.product_id, (i.checked_at AT TIME ZONE 'UTC')::date, d.dimension, d.value, i.host
  FROM "checkins" i CROSS JOIN LATERAL (VALUES ('all', ''), ('version', coalesce(i.installed_version, '')), ('wordpress', coalesce(i.wp_version, '')),
    ('php', coalesce(i.php_version, '')), ('locale', coalesce(i.locale, '')), ('license', i.license)) AS d(dimension, value)
  WHERE i.host IS NOT NULL AND i.checked_at >= current_date - 3;--> statement-breakpoint
INSERT INTO "analytics_last_seen_daily" ("product_id", "day", "dimension", "value", "sites")
  SELECT s.product_id, (s.last_seen_at AT TIME ZONE 'UTC')::date, d.dimension, d.value, count(*)::int
  FROM "product_sites" s CROSS JOIN LATERAL (VALUES ('all', ''), ('version', coalesce(s.installed_version, '')), ('wordpress', coalesce(s.wp_version, '')),
    ('php', coalesce(s.php_version, '')), ('locale', coalesce(s.locale, '')), ('license', s.license)) AS d(dimension, value)
  GROUP BY 1, 2, 3, 4;
