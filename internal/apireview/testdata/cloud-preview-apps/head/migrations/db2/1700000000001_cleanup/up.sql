ALTER TABLE public.db2_table_1 ADD COLUMN owner_id text;
COMMENT ON COLUMN public.db2_table_1.owner_id IS 'was: ALTER TABLE x DROP COLUMN y; it''s fine';
ALTER TABLE public.db2_table_2 DROP COLUMN text;
