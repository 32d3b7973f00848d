-- What PostGraphile needs beyond the raw legacy tables to return what the hub returns:
-- roles it switches to per request (the JWT's role claim), the hub's derived person fields
-- (sex and birth date from the normalized ID number, GB 11643, else from the values the departments
-- recorded) as computed columns, and a
-- masked view of the real-name registry for the restricted role (masks as in schema/masking.py).
-- Functions are plain SQL or PL/pgSQL without exception blocks (a subtransaction per call would
-- make PostGraphile look slower than it is).
-- Idempotent; bench/compare.py runs it after building the dataset and before every run.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hubbench_reader') THEN
    CREATE ROLE hubbench_reader NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hubbench_auditor') THEN
    CREATE ROLE hubbench_auditor NOLOGIN;
  END IF;
END $$;

CREATE SCHEMA IF NOT EXISTS hubbench_private;

-- hub.ids.normalize_name: NFKC, no white space, NULL when blank.
CREATE OR REPLACE FUNCTION hubbench_private.norm_name(raw text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT nullif(regexp_replace(normalize(raw, NFKC), '\s', '', 'g'), '') $$;

-- The GB 11643 check character of 17 digits.
CREATE OR REPLACE FUNCTION hubbench_private.id_check(b text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT substr('10X98765432', (
    substr(b, 1, 1)::int * 7 + substr(b, 2, 1)::int * 9 + substr(b, 3, 1)::int * 10 + substr(b, 4, 1)::int * 5 +
    substr(b, 5, 1)::int * 8 + substr(b, 6, 1)::int * 4 + substr(b, 7, 1)::int * 2 + substr(b, 8, 1)::int * 1 +
    substr(b, 9, 1)::int * 6 + substr(b, 10, 1)::int * 3 + substr(b, 11, 1)::int * 7 + substr(b, 12, 1)::int * 9 +
    substr(b, 13, 1)::int * 10 + substr(b, 14, 1)::int * 5 + substr(b, 15, 1)::int * 8 + substr(b, 16, 1)::int * 4 +
    substr(b, 17, 1)::int * 2
  ) % 11 + 1, 1)
$$;

-- hub.ids.normalize_id_number: folded, upper case, 15 digits upgraded to 18 with the check digit.
CREATE OR REPLACE FUNCTION hubbench_private.id18(raw text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE t text;
BEGIN
  IF raw ~ '^[0-9]{17}[0-9X]$' THEN
    RETURN raw;  -- already canonical: most rows
  END IF;
  t := nullif(upper(regexp_replace(normalize(raw, NFKC), '\s', '', 'g')), '');
  IF t ~ '^[0-9]{15}$' THEN
    t := substr(t, 1, 6) || '19' || substr(t, 7);
    RETURN t || hubbench_private.id_check(t);
  END IF;
  RETURN t;
END $$;

-- The birth date of a valid normalized ID number (format, check digit, real date), else NULL
-- (resolvers.people.birth_from_id).
CREATE OR REPLACE FUNCTION hubbench_private.id_birth(id text) RETURNS date
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE y int; m int; d int;
BEGIN
  IF id !~ '^[0-9]{17}[0-9X]$' THEN
    RETURN NULL;
  END IF;
  IF substr('10X98765432', (
      substr(id, 1, 1)::int * 7 + substr(id, 2, 1)::int * 9 + substr(id, 3, 1)::int * 10 + substr(id, 4, 1)::int * 5 +
      substr(id, 5, 1)::int * 8 + substr(id, 6, 1)::int * 4 + substr(id, 7, 1)::int * 2 + substr(id, 8, 1)::int * 1 +
      substr(id, 9, 1)::int * 6 + substr(id, 10, 1)::int * 3 + substr(id, 11, 1)::int * 7 + substr(id, 12, 1)::int * 9 +
      substr(id, 13, 1)::int * 10 + substr(id, 14, 1)::int * 5 + substr(id, 15, 1)::int * 8 + substr(id, 16, 1)::int * 4 +
      substr(id, 17, 1)::int * 2
    ) % 11 + 1, 1) <> substr(id, 18, 1) THEN
    RETURN NULL;
  END IF;
  y := substr(id, 7, 4)::int; m := substr(id, 11, 2)::int; d := substr(id, 13, 2)::int;
  IF y < 1 OR m NOT BETWEEN 1 AND 12 OR d < 1 THEN
    RETURN NULL;
  END IF;
  IF d > extract(day FROM make_date(y, m, 1) + interval '1 month - 1 day') THEN
    RETURN NULL;
  END IF;
  RETURN make_date(y, m, d);
END $$;

-- resolvers.people.sex_from_id: from the 17th digit of a valid ID number.
CREATE OR REPLACE FUNCTION hubbench_private.id_sex(id text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
BEGIN
  IF hubbench_private.id_birth(id) IS NULL THEN RETURN NULL; END IF;
  RETURN CASE WHEN substr(id, 17, 1)::int % 2 = 1 THEN 'MALE' ELSE 'FEMALE' END;
END $$;

CREATE OR REPLACE FUNCTION hubbench_private.mask_id(v text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT CASE WHEN length(v) > 10 THEN left(v, 6) || repeat('*', length(v) - 10) || right(v, 4)
              ELSE repeat('*', length(v)) END
$$;

CREATE OR REPLACE FUNCTION hubbench_private.mask_name(v text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT left(v, 1) || repeat('*', length(v) - 1) $$;

-- adapters.convert.id_number_variants: the legacy spellings of a normalized ID number (18 digits,
-- lower-case x, the 15-digit original of one issued before 1999, full width), so that a lookup by
-- them uses the departments' indexes as the hub's does.
CREATE OR REPLACE FUNCTION hubbench_private.id_variants(id text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  WITH s(v) AS (
    SELECT unnest(ARRAY[id, lower(id)]
                  || CASE WHEN length(id) = 18 AND substr(id, 7, 2) = '19'
                          THEN ARRAY[substr(id, 1, 6) || substr(id, 9, 9)] ELSE '{}'::text[] END)
  )
  SELECT array_agg(DISTINCT v) FROM (SELECT v FROM s UNION SELECT translate(v, '0123456789Xx', '０１２３４５６７８９Ｘｘ') FROM s) AS a
$$;

-- A department's recorded birth (resolvers.people.recorded_birth over adapters.convert's ISO form):
-- 'YYYY-MM-DD' or 'YYYYMMDD' as that day, 'YYYY-MM' or 'YYYYMM' as the month's first day, else NULL.
CREATE OR REPLACE FUNCTION hubbench_private.recorded_birth(v text) RETURNS date
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE t text; y int; m int; d int := 1;
BEGIN
  t := regexp_replace(btrim(v), '[-/.]', '', 'g');
  IF t !~ '^[0-9]{6}([0-9]{2})?$' THEN RETURN NULL; END IF;
  y := substr(t, 1, 4)::int; m := substr(t, 5, 2)::int;
  IF length(t) = 8 THEN d := substr(t, 7, 2)::int; END IF;
  IF y < 1 OR m NOT BETWEEN 1 AND 12 OR d < 1
     OR d > extract(day FROM make_date(y, m, 1) + interval '1 month - 1 day') THEN
    RETURN NULL;
  END IF;
  RETURN make_date(y, m, d);
END $$;

-- What the hub answers for Person.birthDate and Person.sex of a registry slot whose ID number is not
-- valid: the values the departments recorded, the first that has one in trust order (the slot itself,
-- HR's personnel record, the cadre file, the payee; each department's first record of the person).
-- Called only where the ID number gives nothing (coalesce below), so valid rows cost what they did.
-- SECURITY DEFINER: the restricted role's masked view reads the sex without the departments' tables.
CREATE OR REPLACE FUNCTION hubbench_private.recorded_person_birth(t public."T_SMZ") RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
  SELECT coalesce(
    hubbench_private.recorded_birth(t."CSRQ"),
    (SELECT r."CSRQ" FROM public."RS_RYXX" AS r
      WHERE r."GMSFHM" = ANY (hubbench_private.id_variants(hubbench_private.id18(t."SFZH"))) ORDER BY r."RYBH" LIMIT 1),
    (SELECT hubbench_private.recorded_birth(a."A0107") FROM public."A01" AS a
      WHERE a."A0184" = ANY (hubbench_private.id_variants(hubbench_private.id18(t."SFZH"))) ORDER BY a."A0100" LIMIT 1))
$$;

CREATE OR REPLACE FUNCTION hubbench_private.recorded_person_sex(t public."T_SMZ") RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
  SELECT coalesce(
    CASE btrim(t."XB") WHEN '男' THEN 'MALE' WHEN '女' THEN 'FEMALE' END,
    (SELECT CASE btrim(r."XB") WHEN '1' THEN 'MALE' WHEN '2' THEN 'FEMALE' END FROM public."RS_RYXX" AS r
      WHERE r."GMSFHM" = ANY (hubbench_private.id_variants(hubbench_private.id18(t."SFZH"))) ORDER BY r."RYBH" LIMIT 1),
    (SELECT CASE btrim(a."A0104") WHEN '1' THEN 'MALE' WHEN '2' THEN 'FEMALE' END FROM public."A01" AS a
      WHERE a."A0184" = ANY (hubbench_private.id_variants(hubbench_private.id18(t."SFZH"))) ORDER BY a."A0100" LIMIT 1),
    (SELECT CASE btrim(p."XB") WHEN '1' THEN 'MALE' WHEN '0' THEN 'FEMALE' END FROM public."GZ_RY" AS p
      WHERE p."SFZH" = ANY (hubbench_private.id_variants(hubbench_private.id18(t."SFZH"))) ORDER BY p."RYBM" LIMIT 1))
$$;

-- Computed columns TSmz.idSex and TSmz.idBirthDate (PostGraphile exposes <table>_<name>(row) functions).
CREATE OR REPLACE FUNCTION public."T_SMZ_id_sex"(t public."T_SMZ") RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT coalesce(hubbench_private.id_sex(hubbench_private.id18(t."SFZH")), hubbench_private.recorded_person_sex(t)) $$;

CREATE OR REPLACE FUNCTION public."T_SMZ_id_birth_date"(t public."T_SMZ") RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT coalesce(hubbench_private.id_birth(hubbench_private.id18(t."SFZH")), hubbench_private.recorded_person_birth(t)) $$;

-- Computed column TSmz.lastPay(n): the newest n pay rows of every payee with the slot's ID number
-- (in any of its spellings), newest month first, as the hub's Person.payroll.entries(last: n).
CREATE OR REPLACE FUNCTION public."T_SMZ_last_pay"(t public."T_SMZ", n int) RETURNS SETOF public."GZ_YB"
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT y.* FROM public."GZ_RY" AS r JOIN public."GZ_YB" AS y ON y."RYBM" = r."RYBM"
  WHERE r."SFZH" = ANY (hubbench_private.id_variants(hubbench_private.id18(t."SFZH")))
  ORDER BY y."GZNY" DESC, y."RYBM" DESC
  LIMIT n
$$;

-- The registry as the restricted role sees it: ID number and name masked, nothing else personal
-- (no birth date: it would give away the digits the ID number's mask hides, as the hub's policy says).
DROP VIEW IF EXISTS public."T_SMZ_MASKED";
CREATE VIEW public."T_SMZ_MASKED" AS
  SELECT s."RYID", s."JGID", s."RYZT", s."CBRQ",
         hubbench_private.mask_id(hubbench_private.id18(s."SFZH")) AS "SFZH_MASKED",
         hubbench_private.mask_name(hubbench_private.norm_name(s."XM")) AS "XM_MASKED",
         coalesce(hubbench_private.id_sex(hubbench_private.id18(s."SFZH")),
                  hubbench_private.recorded_person_sex(s)) AS "ID_SEX"
  FROM public."T_SMZ" AS s;
COMMENT ON VIEW public."T_SMZ_MASKED" IS E'@primaryKey RYID\n@foreignKey ("JGID") references "T_JG" ("JGID")';

GRANT USAGE ON SCHEMA public, hubbench_private TO hubbench_reader, hubbench_auditor;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO hubbench_reader;
GRANT SELECT ON public."T_JG", public."T_BZ", public."T_SMZ_MASKED" TO hubbench_auditor;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA hubbench_private TO hubbench_reader, hubbench_auditor;
