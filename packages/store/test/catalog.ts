// What a database's schema is, read from pg_catalog in a form two databases can be compared by:
// everything the app's SQL defines in `public` and `auth` (tables and their columns, constraints,
// indexes, triggers, RLS and policies, sequences, functions with their full definitions, every
// privilege) and the three API roles. Names and definitions only: no oids, and privileges as sorted
// (grantor, grantee, privilege) lists, so the order grants were made in does not count.
import type { SqlTx } from "../src/index";

/** The migrator's own bookkeeping, which the declarative schema does not describe. */
const MIGRATOR_TABLES = ["database_migrations"];

const SCHEMAS = "('public', 'auth')";

/** `acl` as sorted "grantor>grantee:privilege[*]" strings; a null acl is the object kind's default. */
const acl = (expr: string, kind: string, owner: string) => aclItems(`coalesce(${expr}, acldefault('${kind}', ${owner}))`);
const aclItems = (expr: string) =>
  `(select coalesce(array_agg(i.item order by i.item), '{}') from (
      select format('%s>%s:%s%s', a.grantor::regrole, case when a.grantee = 0 then 'PUBLIC' else a.grantee::regrole::text end,
                    a.privilege_type, case when a.is_grantable then '*' else '' end) as item
        from aclexplode(${expr}) a) i)`;

const QUERIES = {
  roles: `
    select r.rolname, r.rolcanlogin, r.rolinherit, r.rolbypassrls,
           array(select g.rolname::text from pg_auth_members m join pg_roles g on g.oid = m.roleid
                  where m.member = r.oid order by 1) as member_of
      from pg_roles r where r.rolname in ('anon', 'authenticated', 'service_role') order by 1`,
  schemas: `
    select n.nspname, n.nspowner::regrole::text as owner, ${acl("n.nspacl", "n", "n.nspowner")} as acl
      from pg_namespace n where n.nspname in ${SCHEMAS} order by 1`,
  relations: `
    select n.nspname || '.' || c.relname as name, c.relkind, c.relowner::regrole::text as owner,
           c.relrowsecurity, c.relforcerowsecurity, c.relpersistence,
           ${acl("c.relacl", "r", "c.relowner")} as acl
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname in ${SCHEMAS} and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f') and c.relname <> all ($1)
     order by 1`,
  columns: `
    select n.nspname || '.' || c.relname as "table",
           row_number() over (partition by c.oid order by a.attnum) as position,
           a.attname, format_type(a.atttypid, a.atttypmod) as type, a.attnotnull, a.attidentity, a.attgenerated,
           pg_get_expr(d.adbin, d.adrelid) as "default", coll.collname,
           ${aclItems("a.attacl")} as acl
      from pg_attribute a
      join pg_class c on c.oid = a.attrelid
      join pg_namespace n on n.oid = c.relnamespace
      left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
      left join pg_collation coll on coll.oid = a.attcollation and a.attcollation <> 0
     where n.nspname in ${SCHEMAS} and c.relkind in ('r', 'p', 'v', 'm', 'f') and a.attnum > 0 and not a.attisdropped
       and c.relname <> all ($1)
     order by 1, 2`,
  constraints: `
    select n.nspname || '.' || c.relname as "table", k.conname, k.contype, pg_get_constraintdef(k.oid) as def,
           k.convalidated, k.condeferrable, k.condeferred
      from pg_constraint k
      join pg_class c on c.oid = k.conrelid
      join pg_namespace n on n.oid = c.relnamespace
     where n.nspname in ${SCHEMAS} and c.relname <> all ($1)
     order by 1, 2`,
  indexes: `
    select schemaname || '.' || indexname as name, indexdef
      from pg_indexes where schemaname in ${SCHEMAS} and tablename <> all ($1) order by 1`,
  triggers: `
    select t.tgname, pg_get_triggerdef(t.oid) as def, t.tgenabled
      from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
     where n.nspname in ${SCHEMAS} and not t.tgisinternal
     order by 1, 2`,
  policies: `
    select schemaname || '.' || tablename as "table", policyname, permissive, roles::text[] as roles, cmd, qual, with_check
      from pg_policies where schemaname in ${SCHEMAS} order by 1, 2`,
  sequences: `
    select schemaname || '.' || sequencename as name, data_type::text, start_value::text, min_value::text,
           max_value::text, increment_by::text, cycle, cache_size::text
      from pg_sequences where schemaname in ${SCHEMAS} order by 1`,
  functions: `
    select p.oid::regprocedure::text as signature, p.proowner::regrole::text as owner,
           md5(pg_get_functiondef(p.oid)) as definition, ${acl("p.proacl", "f", "p.proowner")} as acl
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname in ${SCHEMAS}
       and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
     order by 1`,
} as const;

export type Catalog = Record<keyof typeof QUERIES, Record<string, unknown>[]>;

export async function readCatalog(sql: Pick<SqlTx, "query">): Promise<Catalog> {
  const out = {} as Catalog;
  for (const [key, text] of Object.entries(QUERIES) as [keyof typeof QUERIES, string][]) {
    out[key] = await sql.query(text, text.includes("$1") ? [MIGRATOR_TABLES] : []);
  }
  return out;
}
