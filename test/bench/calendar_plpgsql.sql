-- test/bench/calendar_plpgsql.sql: period_of and due_date written in
-- PL/pgSQL, the way one would without the extension's C, for comparison.
CREATE SCHEMA IF NOT EXISTS bench;

-- bench.cutoff_on_or_after: the first cut-off on or after d
CREATE OR REPLACE FUNCTION bench.cutoff_on_or_after(c text, d date) RETURNS date
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
	kind text := split_part(c, ':', 1);
	arg text := split_part(c, ':', 2);
	first_of_month date;
	last_of_month date;
	cut date;
BEGIN
	IF kind = 'daily' THEN
		RETURN d;
	ELSIF kind = 'weekly' THEN
		RETURN d + (array_position(ARRAY['mon','tue','wed','thu','fri','sat','sun'], arg)
		            - extract(isodow FROM d)::int + 7) % 7;
	ELSIF kind = 'monthly' THEN
		first_of_month := date_trunc('month', d)::date;
		FOR i IN 0 .. 1 LOOP
			last_of_month := (first_of_month + interval '1 month - 1 day')::date;
			IF arg = 'eom' THEN
				cut := last_of_month;
			ELSE
				cut := least(first_of_month + arg::int - 1, last_of_month);
			END IF;
			IF cut >= d THEN
				RETURN cut;
			END IF;
			first_of_month := (first_of_month + interval '1 month')::date;
		END LOOP;
	ELSIF kind = 'yearly' THEN
		FOR y IN extract(year FROM d)::int .. extract(year FROM d)::int + 1 LOOP
			IF arg = 'eoy' THEN
				cut := make_date(y, 12, 31);
			ELSE
				cut := make_date(y, 1, 1) + arg::int - 1;
			END IF;
			IF cut >= d THEN
				RETURN cut;
			END IF;
		END LOOP;
	END IF;
	RAISE EXCEPTION 'bad cycle %', c;
END
$$;

-- bench.cutoff_before: the last cut-off before d
CREATE OR REPLACE FUNCTION bench.cutoff_before(c text, d date) RETURNS date
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
	kind text := split_part(c, ':', 1);
	probe date;
BEGIN
	IF kind = 'daily' THEN
		RETURN d - 1;
	ELSIF kind = 'weekly' THEN
		RETURN bench.cutoff_on_or_after(c, d - 7);
	ELSIF kind = 'monthly' THEN
		probe := (date_trunc('month', d) - interval '1 month')::date;
	ELSE
		probe := (date_trunc('year', d) - interval '1 year')::date;
	END IF;
	-- walk forward from a month (year) back to the last cut-off before d
	LOOP
		IF bench.cutoff_on_or_after(c, bench.cutoff_on_or_after(c, probe) + 1) >= d THEN
			RETURN bench.cutoff_on_or_after(c, probe);
		END IF;
		probe := bench.cutoff_on_or_after(c, probe) + 1;
	END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION bench.period_of(c text, d date) RETURNS daterange
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
	cut date := bench.cutoff_on_or_after(c, d);
BEGIN
	RETURN daterange(bench.cutoff_before(c, cut) + 1, cut + 1);
END
$$;

CREATE OR REPLACE FUNCTION bench.due_date(r text, cutoff date, invoice_date date) RETURNS date
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
	months int;
	day text;
	first_of_month date;
	last_of_month date;
BEGIN
	IF split_part(r, ':', 1) = 'net' THEN
		RETURN invoice_date + split_part(r, ':', 2)::int;
	END IF;
	months := split_part(split_part(r, ':', 1), '+', 2)::int;
	day := split_part(r, ':', 2);
	first_of_month := (date_trunc('month', cutoff) + make_interval(months => months))::date;
	last_of_month := (first_of_month + interval '1 month - 1 day')::date;
	IF day = 'eom' THEN
		RETURN last_of_month;
	END IF;
	RETURN least(first_of_month + day::int - 1, last_of_month);
END
$$;

-- bench.best_ms: the best of n timings of a query, in milliseconds
CREATE OR REPLACE FUNCTION bench.best_ms(q text, n integer DEFAULT 3) RETURNS numeric
LANGUAGE plpgsql AS $$
DECLARE
	best numeric;
	t0 timestamptz;
	ms numeric;
BEGIN
	FOR i IN 1 .. n LOOP
		t0 := clock_timestamp();
		EXECUTE q;
		ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
		best := least(best, ms);
	END LOOP;
	RETURN round(best, 1);
END
$$;
