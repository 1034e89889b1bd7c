-- Brand walls that read no table (issue 16, doc/citus.md "Brand walls"):
-- each granted brand has a role of its own, billing_brand_<id>_<database
-- tag>, the grantees are its members, and every policy tests brand_id =
-- ANY (billing_internal.visible_brands()), which reads the catalog only.
-- What is checked here: the roles and memberships grant_brand and
-- revoke_brand make; who sees what through them (members, NOINHERIT, a
-- revoke seen by the same session); verify() on a membership made or lost
-- outside the API and grant_brand's repair; the adversary's roles (one
-- named like a brand role of another database, one for a brand that does
-- not exist); another database's brand 1; a database whose billing was
-- dropped and installed again; and no policy left with a subquery but the
-- two tables that hold no brand_id yet.
SELECT current_database() AS suite_db \gset
CREATE DATABASE billing_brand_roles;
\c billing_brand_roles
SET client_min_messages = warning;
CREATE EXTENSION billing;
SET client_min_messages = notice;
SET search_path = public, billing;
\set SHOW_CONTEXT never

DO $$
DECLARE
	r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['regress_br_acme', 'regress_br_beta', 'regress_br_clerk',
	                         'regress_br_noinherit', 'regress_br_intruder']
	LOOP
		IF EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
			EXECUTE format('DROP OWNED BY %I', r);
			EXECUTE format('DROP ROLE %I', r);
		END IF;
	END LOOP;
END
$$;
CREATE ROLE regress_br_acme;
CREATE ROLE regress_br_beta;
CREATE ROLE regress_br_clerk IN ROLE regress_br_acme;
CREATE ROLE regress_br_noinherit NOINHERIT IN ROLE regress_br_acme;
CREATE ROLE regress_br_intruder;
GRANT USAGE ON SCHEMA billing TO regress_br_acme, regress_br_beta, regress_br_clerk,
	regress_br_noinherit, regress_br_intruder;
GRANT SELECT ON billing.brand, billing.buyer TO regress_br_acme, regress_br_beta, regress_br_clerk,
	regress_br_noinherit, regress_br_intruder;

INSERT INTO brand (code, name) VALUES ('ACME', 'Acme KK'), ('BETA', 'Beta KK');
INSERT INTO buyer (brand_id, code, name) VALUES (1, 'A1', 'ACME buyer'), (2, 'B1', 'BETA buyer');

-- the role's name: the brand id and the first 8 hex digits of md5(database name)
SELECT billing_internal.brand_role_name(1) AS acme_role,
       billing_internal.brand_role_name(1) = 'billing_brand_1_' || left(md5(current_database()), 8) AS named_so;
-- no role before the first grant
SELECT count(*) AS brand_roles FROM pg_roles WHERE rolname LIKE 'billing\_brand\_%\_' || left(md5(current_database()), 8);

-- grant_brand makes the role (NOLOGIN, commented) and the membership
SELECT billing.grant_brand('ACME', 'regress_br_acme') AS granted,
       billing.grant_brand('ACME', 'regress_br_acme') AS granted_again,
       billing.grant_brand('BETA', 'regress_br_beta') AS beta_granted;
SELECT r.rolname, r.rolcanlogin, r.rolsuper, m.member::regrole AS member,
       shobj_description(r.oid, 'pg_authid') AS comment
FROM pg_roles r JOIN pg_auth_members m ON m.roleid = r.oid
WHERE r.rolname IN (billing_internal.brand_role_name(1), billing_internal.brand_role_name(2))
ORDER BY 1, 4;

-- who sees what: the grantee, a member of it; not a NOINHERIT member (as
-- with pg_has_role USAGE in 0.2), not an unrelated role
SET ROLE regress_br_acme;
SELECT billing_internal.visible_brands() AS acme_sees, array_agg(code ORDER BY code) AS buyers FROM buyer;
RESET ROLE;
SET ROLE regress_br_clerk;
SELECT billing_internal.visible_brands() AS clerk_sees, array_agg(code ORDER BY code) AS buyers FROM buyer;
RESET ROLE;
SET ROLE regress_br_noinherit;
SELECT billing_internal.visible_brands() AS noinherit_sees, count(*) AS buyers FROM buyer;
RESET ROLE;
SET ROLE regress_br_beta;
SELECT billing_internal.visible_brands() AS beta_sees, array_agg(code ORDER BY code) AS buyers FROM brand;
RESET ROLE;
SET ROLE regress_br_intruder;
SELECT billing_internal.visible_brands() AS intruder_sees, count(*) AS buyers FROM buyer;
RESET ROLE;
-- the caller's brands, as the API functions ask them
SELECT billing_internal.role_brands('regress_br_clerk'::regrole) AS clerk, billing_internal.role_brands('regress_br_intruder'::regrole) AS intruder;
SELECT * FROM billing.verify();

-- the adversary's roles: one named as brand 1's role of another database,
-- one as the role of a brand that does not exist here; neither opens a row
CREATE ROLE billing_brand_1_deadbeef;
GRANT billing_brand_1_deadbeef TO regress_br_intruder;
DO $$ BEGIN EXECUTE format('CREATE ROLE %I', billing_internal.brand_role_name(99)); END $$;
DO $$ BEGIN EXECUTE format('GRANT %I TO regress_br_intruder', billing_internal.brand_role_name(99)); END $$;
SET ROLE regress_br_intruder;
SELECT billing_internal.visible_brands() AS intruder_sees, count(*) AS buyers FROM buyer;
RESET ROLE;
DROP ROLE billing_brand_1_deadbeef;
-- and once brand 99 exists, its first grant refuses the squatted role
-- rather than adopt its members
SELECT setval('billing.brand_id_seq', 98);
INSERT INTO brand (code, name) VALUES ('SQUAT', 'Squatted KK');
SELECT billing.grant_brand('SQUAT', 'regress_br_beta');
SELECT count(*) AS squat_grants FROM billing.brand_grant WHERE brand_id = 99;
DO $$ BEGIN EXECUTE format('REVOKE %I FROM regress_br_intruder', billing_internal.brand_role_name(99)); END $$;
SELECT billing.grant_brand('SQUAT', 'regress_br_beta') AS granted_after_revoke;
SELECT billing.revoke_brand('SQUAT', 'regress_br_beta') AS revoked;

-- a membership made outside the API is seen by the walls and reported by
-- verify(); so is one lost; grant_brand puts a lost one back
DO $$ BEGIN EXECUTE format('GRANT %I TO regress_br_intruder', billing_internal.brand_role_name(2)); END $$;
SET ROLE regress_br_intruder;
SELECT billing_internal.visible_brands() AS intruder_sees;
RESET ROLE;
DO $$ BEGIN EXECUTE format('REVOKE %I FROM regress_br_acme', billing_internal.brand_role_name(1)); END $$;
SELECT invariant, key, detail FROM billing.verify() ORDER BY key;
DO $$ BEGIN EXECUTE format('REVOKE %I FROM regress_br_intruder', billing_internal.brand_role_name(2)); END $$;
SELECT billing.grant_brand('ACME', 'regress_br_acme') AS repaired;
SELECT * FROM billing.verify();

-- revoke_brand takes the membership away, and the same session sees it at once
SET ROLE regress_br_beta;
SELECT count(*) AS beta_buyers_before FROM buyer;
RESET ROLE;
SELECT billing.revoke_brand('BETA', 'regress_br_beta') AS revoked, billing.revoke_brand('BETA', 'regress_br_beta') AS revoked_again;
SET ROLE regress_br_beta;
SELECT billing_internal.visible_brands() AS beta_sees, count(*) AS beta_buyers_after FROM buyer;
RESET ROLE;
SELECT count(*) AS beta_members FROM pg_auth_members m WHERE m.roleid = billing_internal.brand_role_name(2)::regrole;

-- no policy reads a table but those of the two tables without brand_id
-- (tax lines and links: the next step of doc/citus.md)
SELECT p.polrelid::regclass AS still_with_a_subquery
FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
WHERE c.relnamespace = 'billing'::regnamespace AND strpos(p.polqual::text, '{SUBLINK') > 0
ORDER BY 1;

-- another database's brand 1 is another role: granted there, it opens
-- nothing here
CREATE DATABASE billing_brand_roles_2;
\c billing_brand_roles_2
SET client_min_messages = warning;
CREATE EXTENSION billing;
SET client_min_messages = notice;
INSERT INTO billing.brand (code, name) VALUES ('OTHER', 'Other KK');
INSERT INTO billing.buyer (brand_id, code, name) VALUES (1, 'O1', 'other buyer');
GRANT USAGE ON SCHEMA billing TO regress_br_intruder;
GRANT SELECT ON billing.buyer TO regress_br_intruder;
SELECT billing.grant_brand('OTHER', 'regress_br_intruder') AS granted_there;
SET ROLE regress_br_intruder;
SELECT billing_internal.visible_brands() AS intruder_sees_there, array_agg(code) AS buyers FROM billing.buyer;
RESET ROLE;
\c billing_brand_roles
SET ROLE regress_br_intruder;
SELECT billing_internal.visible_brands() AS intruder_sees_here, count(*) AS buyers FROM billing.buyer;
RESET ROLE;

-- billing dropped and installed again there: the roles outlive DROP
-- EXTENSION, but the new install takes their members away, so the new
-- brand 1 is not open to the old brand 1's roles
\c billing_brand_roles_2
SET billing.allow_drop = on;
DROP EXTENSION billing;
SELECT count(*) AS old_members FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
WHERE r.rolname = 'billing_brand_1_' || left(md5(current_database()), 8);
SET client_min_messages = warning;
CREATE EXTENSION billing;
SET client_min_messages = notice;
SELECT count(*) AS members_after_install FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
WHERE r.rolname = 'billing_brand_1_' || left(md5(current_database()), 8);
INSERT INTO billing.brand (code, name) VALUES ('NEW', 'New KK');
INSERT INTO billing.buyer (brand_id, code, name) VALUES (1, 'N1', 'new buyer');
GRANT USAGE ON SCHEMA billing TO regress_br_intruder;
GRANT SELECT ON billing.buyer TO regress_br_intruder;
SET ROLE regress_br_intruder;
SELECT billing_internal.visible_brands() AS intruder_sees_new, count(*) AS buyers FROM billing.buyer;
RESET ROLE;

\c :suite_db
DROP DATABASE billing_brand_roles;
DROP DATABASE billing_brand_roles_2;
DO $$
DECLARE
	r text;
BEGIN
	FOR r IN SELECT rolname FROM pg_roles
	         WHERE rolname LIKE 'regress\_br\_%'
	            OR rolname LIKE 'billing\_brand\_%\_' || left(md5('billing_brand_roles'), 8)
	            OR rolname LIKE 'billing\_brand\_%\_' || left(md5('billing_brand_roles_2'), 8)
	         ORDER BY rolname DESC
	LOOP
		EXECUTE format('DROP ROLE %I', r);
	END LOOP;
END
$$;
