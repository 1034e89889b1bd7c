-- test/citus/walls.sql: the brand walls on the shards.  billing's policy,
-- brand_id = ANY (billing_internal.visible_brands()), put on a table
-- distributed by buyer over both workers: Citus evaluates a distributed
-- table's policy on the worker that holds the shard, as the querying role,
-- so the brand roles that grant_brand makes on the coordinator must reach
-- the workers, and the test must read no table there.  (billing's own
-- tables stay local until billing.distribute() accepts: this is the
-- mechanism, tried on the shards.)  Run by test/citus/run.sh after
-- guarantees.sql, as postgres, with the README's recipe roles.
\set VERBOSITY terse
CREATE TABLE public.wall_probe (buyer_id bigint, brand_id bigint, brand text);
SELECT create_distributed_table('public.wall_probe', 'buyer_id', shard_count => 4);
ALTER TABLE public.wall_probe ENABLE ROW LEVEL SECURITY;
CREATE POLICY brand_wall ON public.wall_probe USING (brand_id = ANY (billing_internal.visible_brands()));
INSERT INTO public.wall_probe SELECT g, b.id, b.code FROM billing.brand b, generate_series(1, 40) AS g;
GRANT SELECT ON public.wall_probe TO billing_reader;
-- the rows are on both workers
SELECT count(DISTINCT nodeport) AS workers_holding_rows FROM citus_shards WHERE table_name = 'public.wall_probe'::regclass;

-- each recipe role of ACME sees ACME's 40 rows, on every shard (a
-- multi-shard query) and on one (a router query)
SET ROLE acme_reader;
SELECT brand, count(*) FROM public.wall_probe GROUP BY brand ORDER BY brand;
SELECT brand, count(*) AS one_buyer FROM public.wall_probe WHERE buyer_id = 7 GROUP BY brand;
-- the filter is in the plan of the worker's shard scan (Citus's EXPLAIN
-- shows one task's remote plan)
DO $$
DECLARE
	line text;
	filtered int := 0;
BEGIN
	FOR line IN EXPLAIN (COSTS OFF) SELECT count(*) FROM public.wall_probe LOOP
		IF line LIKE '%Seq Scan on wall_probe_%' THEN
			filtered := filtered + 1;
		ELSIF line LIKE '%Filter: (brand_id = ANY (billing_internal.visible_brands()))%' THEN
			filtered := filtered + 10;
		END IF;
	END LOOP;
	RAISE NOTICE 'a shard scan with the brand wall as its filter: %', filtered = 11;
END
$$;
RESET ROLE;
SET ROLE acme_admin;
SELECT brand, count(*) FROM public.wall_probe GROUP BY brand ORDER BY brand;
RESET ROLE;

-- revoked on the coordinator: the workers see it at once; granted again
SELECT billing.revoke_brand('ACME', 'acme') AS revoked;
SET ROLE acme_reader;
SELECT count(*) AS after_revoke FROM public.wall_probe;
RESET ROLE;
SELECT billing.grant_brand('ACME', 'acme') AS granted;
SET ROLE acme_reader;
SELECT count(*) AS after_grant FROM public.wall_probe;
RESET ROLE;
SELECT * FROM billing.verify();
DROP TABLE public.wall_probe;
