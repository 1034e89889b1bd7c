-- src/sql/grants.sql: what the whole extension grants.  Nothing here grants
-- a role anything: the DBA makes the administrator, application and reader
-- roles from the recipe in README.md ("Roles").  Each function says who may
-- call it at its definition: the API functions that act are REVOKEd from
-- PUBLIC there (the recipe grants each to the roles that need it), every
-- internal function of billing_internal too, but for what the types,
-- CHECKs, row level security policies and views evaluate as the querying
-- role (pure functions of their arguments, or of the caller's own brand
-- grants, that write nothing), which are GRANTed to PUBLIC there.  Trigger
-- functions need no EXECUTE to fire.  (test bound_bodies lists them.)

-- USAGE lets a name in billing_internal be looked up (the triggers that run
-- as the writing role call checks by name); it executes nothing, and the
-- schema is on no search_path
GRANT USAGE ON SCHEMA billing_internal TO PUBLIC;

-- every role reads its own brand grants (row level security shows it no
-- other): the brand walls' policies read them as the querying role
GRANT SELECT ON billing.brand_grant TO PUBLIC;
