-- site-role.sql: a role for one site's ship, with the least it needs.
--
--   psql -v site=rig1 -v role=ship_rig1 -f scripts/pg/site-role.sql
--
-- Run as the control-room store's owner (the role that ran tsstore init),
-- in its database. The role may log in (give it a password with
-- \password, or use certificate or peer authentication in pg_hba.conf),
-- and through row security it sees and writes only the series named
-- SITE/...: it can ship its site's store, and cannot read, overwrite or
-- delete another site's series, tags or watermark. Run again, it changes
-- nothing; to take a site's rights away: DROP OWNED BY role; DROP ROLE role;
-- DELETE FROM tsstore.site_role WHERE role = 'role'.
\set ON_ERROR_STOP on
SELECT format('CREATE ROLE %I LOGIN', :'role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
GRANT USAGE ON SCHEMA tsstore TO :"role";
-- the store's format and the site's own watermark (row security)
GRANT SELECT, INSERT, UPDATE ON tsstore.meta TO :"role";
-- its series: found, added; chunks merged (deleted and written again)
GRANT SELECT, INSERT ON tsstore.series TO :"role";
GRANT USAGE ON SEQUENCE tsstore.series_id_seq TO :"role";
GRANT SELECT, INSERT, DELETE ON tsstore.chunk TO :"role";
GRANT SELECT, INSERT, UPDATE, DELETE ON tsstore.tag TO :"role";
-- rollups: which there are, and what its ship leaves to roll up
GRANT SELECT ON tsstore.rollup TO :"role";
GRANT SELECT, INSERT, UPDATE ON tsstore.dirty TO :"role";
GRANT EXECUTE ON FUNCTION tsstore.make_partition(bigint) TO :"role";
INSERT INTO tsstore.site_role VALUES (:'role', :'site')
    ON CONFLICT (role) DO UPDATE SET site = excluded.site;
